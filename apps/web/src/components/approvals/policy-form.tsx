'use client';

// The fields of an approval policy, shared by the customer's policy card and a pair's override.
// Each field may be "inherited" (pair override only): then it is left out of the override.
import type { ApprovalPolicy } from '@tandem/engine';
import { Field, Input, Select } from '@/components/ui';

export type PolicyDraft = { [K in keyof ApprovalPolicy]: ApprovalPolicy[K] | undefined };

const INHERIT = '';

/** Text of the escalation addresses field <-> list. */
export const emailsToText = (emails: string[] | undefined) => (emails ?? []).join(', ');
export const textToEmails = (text: string) =>
  text
    .split(/[\s,;]+/)
    .map((s) => s.trim())
    .filter(Boolean);

export function PolicyFields({
  idPrefix,
  draft,
  onChange,
  inheritable = false,
  fields,
  emailsText,
  onEmailsText,
}: {
  idPrefix: string;
  draft: PolicyDraft;
  onChange: (d: PolicyDraft) => void;
  /** Offer "as the customer's" on every field (a pair's override). */
  inheritable?: boolean;
  fields?: Record<string, string> | null;
  emailsText: string;
  onEmailsText: (t: string) => void;
}) {
  const set = <K extends keyof PolicyDraft>(k: K, v: PolicyDraft[K]) => onChange({ ...draft, [k]: v });
  const inherit = inheritable ? <option value={INHERIT}>As the customer’s policy</option> : null;
  const bool = (v: string) => (v === INHERIT ? undefined : v === 'yes');
  const boolValue = (v: boolean | undefined) => (v === undefined ? INHERIT : v ? 'yes' : 'no');
  return (
    <div className="grid gap-3 sm:grid-cols-2">
      <Field id={`${idPrefix}-approvers`} label="Who may approve" error={fields?.approvers}>
        <Select id={`${idPrefix}-approvers`} value={draft.approvers ?? INHERIT} onChange={(e) => set('approvers', e.target.value === INHERIT ? undefined : (e.target.value as ApprovalPolicy['approvers']))}>
          {inherit}
          <option value="any">MSP operators or the customer’s approvers</option>
          <option value="msp">MSP operators only</option>
          <option value="customer">The customer’s approvers only</option>
        </Select>
      </Field>
      <Field id={`${idPrefix}-four-eyes`} label="Four eyes" help="Two different people must approve." error={fields?.fourEyes}>
        <Select id={`${idPrefix}-four-eyes`} value={boolValue(draft.fourEyes)} onChange={(e) => set('fourEyes', bool(e.target.value))}>
          {inherit}
          <option value="no">One approval is enough</option>
          <option value="yes">Two different people</option>
        </Select>
      </Field>
      <Field id={`${idPrefix}-deadline`} label="Deadline (minutes)" error={fields?.deadlineMinutes}>
        <Input
          id={`${idPrefix}-deadline`}
          type="number"
          min={1}
          max={10080}
          placeholder={inheritable ? 'As the customer’s' : undefined}
          value={draft.deadlineMinutes ?? ''}
          onChange={(e) => set('deadlineMinutes', e.target.value === '' ? undefined : Number(e.target.value))}
        />
      </Field>
      <Field id={`${idPrefix}-on-deadline`} label="When nobody answers in time" error={fields?.onDeadline}>
        <Select id={`${idPrefix}-on-deadline`} value={draft.onDeadline ?? INHERIT} onChange={(e) => set('onDeadline', e.target.value === INHERIT ? undefined : (e.target.value as ApprovalPolicy['onDeadline']))}>
          {inherit}
          <option value="abandon">Abandon the request (the pair stays pending)</option>
          <option value="proceed">Run the failover</option>
        </Select>
      </Field>
      <Field id={`${idPrefix}-escalate`} label="Escalate at half-time" error={fields?.escalate}>
        <Select id={`${idPrefix}-escalate`} value={boolValue(draft.escalate)} onChange={(e) => set('escalate', bool(e.target.value))}>
          {inherit}
          <option value="yes">Notify the escalation contacts</option>
          <option value="no">Do not escalate</option>
        </Select>
      </Field>
      <Field
        id={`${idPrefix}-emails`}
        label="Escalation contacts"
        help={inheritable ? 'E-mail addresses, comma-separated; empty: as the customer’s.' : 'E-mail addresses, comma-separated; empty: the MSP’s owners and admins.'}
        error={fields?.escalationEmails ?? Object.entries(fields ?? {}).find(([k]) => k.startsWith('escalationEmails'))?.[1]}
      >
        <Input id={`${idPrefix}-emails`} value={emailsText} onChange={(e) => onEmailsText(e.target.value)} />
      </Field>
    </div>
  );
}
