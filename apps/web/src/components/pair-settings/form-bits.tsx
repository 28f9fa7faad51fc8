'use client';

// Small form pieces the pair settings form is built from: a section card, checkboxes and radio
// groups with help text, an ordered list editor and an address chooser. Each one labels its
// inputs properly so people with screen readers (and browser tests) find them by name.
import { useId, useState, type ReactNode } from 'react';
import { Button, Card, Input } from '../ui';

export function cx(...parts: (string | false | null | undefined)[]) {
  return parts.filter(Boolean).join(' ');
}

export function Section({
  title,
  description,
  children,
  id,
}: {
  title: string;
  description?: string;
  children: ReactNode;
  id?: string;
}) {
  const headingId = useId();
  return (
    <Card className="mb-4">
      <div role="group" aria-labelledby={headingId} id={id} data-settings-section={title}>
        <h2 id={headingId} className="text-lg font-semibold">
          {title}
        </h2>
        {description && <p className="mt-0.5 text-sm text-slate-600 dark:text-slate-400">{description}</p>}
        <div className="mt-4 space-y-5">{children}</div>
      </div>
    </Card>
  );
}

export function HelpText({ id, children }: { id?: string; children: ReactNode }) {
  return (
    <p id={id} className="text-xs text-slate-500 dark:text-slate-400">
      {children}
    </p>
  );
}

export function FieldError({ id, message }: { id?: string; message?: string }) {
  if (!message) return null;
  return (
    <p id={id} role="alert" className="text-xs text-red-700 dark:text-red-400">
      {message}
    </p>
  );
}

/** A checkbox with its label beside it and help text underneath. */
export function CheckboxField({
  id,
  label,
  help,
  checked,
  onChange,
  error,
}: {
  id: string;
  label: string;
  help?: string;
  checked: boolean;
  onChange: (v: boolean) => void;
  error?: string;
}) {
  return (
    <div className="space-y-1">
      <div className="flex items-start gap-2">
        <input
          id={id}
          type="checkbox"
          className="mt-0.5 h-4 w-4 rounded border-slate-300 accent-sky-700 dark:border-slate-600"
          checked={checked}
          onChange={(e) => onChange(e.target.checked)}
          aria-describedby={help ? `${id}-help` : undefined}
        />
        <label htmlFor={id} className="text-sm font-medium">
          {label}
        </label>
      </div>
      <div className="pl-6">
        {help && !error && <HelpText id={`${id}-help`}>{help}</HelpText>}
        <FieldError id={`${id}-error`} message={error} />
      </div>
    </div>
  );
}

/** A set of radio buttons (a fieldset with a legend), each option with an optional hint. */
export function RadioField<T extends string>({
  name,
  legend,
  help,
  value,
  options,
  onChange,
  error,
}: {
  name: string;
  legend: string;
  help?: string;
  value: T;
  options: { value: T; label: string; hint?: string }[];
  onChange: (v: T) => void;
  error?: string;
}) {
  return (
    <fieldset className="space-y-1" aria-describedby={help ? `${name}-help` : undefined}>
      <legend className="mb-1 text-sm font-medium">{legend}</legend>
      <div className="flex flex-wrap gap-2">
        {options.map((o) => {
          const id = `${name}-${o.value}`;
          const checked = value === o.value;
          return (
            <label
              key={o.value}
              htmlFor={id}
              className={cx(
                'flex cursor-pointer items-center gap-2 rounded-md border px-3 py-1.5 text-sm',
                checked
                  ? 'border-sky-600 bg-sky-50 text-sky-900 dark:border-sky-500 dark:bg-sky-950 dark:text-sky-100'
                  : 'border-slate-300 hover:bg-slate-50 dark:border-slate-600 dark:hover:bg-slate-800',
              )}
            >
              <input
                id={id}
                type="radio"
                name={name}
                value={o.value}
                checked={checked}
                onChange={() => onChange(o.value)}
                className="accent-sky-700"
              />
              <span>{o.label}</span>
              {o.hint && <span className="text-xs text-slate-500 dark:text-slate-400">{o.hint}</span>}
            </label>
          );
        })}
      </div>
      {help && !error && <HelpText id={`${name}-help`}>{help}</HelpText>}
      <FieldError message={error} />
    </fieldset>
  );
}

/**
 * An editable list of short strings: add at the end, remove, and (when `ordered`) move up and
 * down. `itemLabel` names each entry for the buttons ("Move smbd up").
 */
export function ListEditor({
  id,
  label,
  help,
  items,
  onChange,
  ordered = false,
  placeholder,
  addLabel = 'Add',
  error,
  itemErrors,
  emptyText = 'None yet.',
  mono = false,
}: {
  id: string;
  label: string;
  help?: string;
  items: string[];
  onChange: (items: string[]) => void;
  ordered?: boolean;
  placeholder?: string;
  addLabel?: string;
  error?: string;
  itemErrors?: (index: number) => string | undefined;
  emptyText?: string;
  mono?: boolean;
}) {
  const move = (i: number, d: -1 | 1) => {
    const next = [...items];
    const [it] = next.splice(i, 1);
    next.splice(i + d, 0, it!);
    onChange(next);
  };
  const ListTag = ordered ? 'ol' : 'ul';
  return (
    <div className="space-y-1.5" role="group" aria-labelledby={`${id}-label`} data-list-editor={id}>
      <p id={`${id}-label`} className="text-sm font-medium">
        {label}
      </p>
      {items.length === 0 ? (
        <p className="text-sm text-slate-500 dark:text-slate-400">{emptyText}</p>
      ) : (
        <ListTag
          className="divide-y divide-slate-100 rounded-md border border-slate-200 dark:divide-slate-800 dark:border-slate-700"
          aria-label={label}
        >
          {items.map((item, i) => (
            <li key={`${item}-${i}`} className="flex flex-wrap items-center gap-2 px-2 py-1.5 text-sm">
              {ordered && <span className="w-5 text-right text-xs tabular-nums text-slate-500">{i + 1}.</span>}
              <span className={cx('min-w-0 flex-1 break-all', mono && 'font-mono text-xs')}>{item}</span>
              {itemErrors?.(i) && <span className="w-full text-xs text-red-700 dark:text-red-400">{itemErrors(i)}</span>}
              <span className="flex gap-1">
                {ordered && (
                  <>
                    <SmallButton label={`Move ${item} up`} disabled={i === 0} onClick={() => move(i, -1)}>
                      ↑
                    </SmallButton>
                    <SmallButton label={`Move ${item} down`} disabled={i === items.length - 1} onClick={() => move(i, 1)}>
                      ↓
                    </SmallButton>
                  </>
                )}
                <SmallButton label={`Remove ${item}`} onClick={() => onChange(items.filter((_, j) => j !== i))}>
                  ✕
                </SmallButton>
              </span>
            </li>
          ))}
        </ListTag>
      )}
      <DraftInput
        id={id}
        inputLabel={`${addLabel}: ${label}`}
        buttonLabel={`${addLabel} to ${label}`}
        buttonText={addLabel}
        placeholder={placeholder}
        mono={mono}
        onAdd={(v) => onChange([...items, v])}
      />
      {help && !error && <HelpText>{help}</HelpText>}
      <FieldError message={error} />
    </div>
  );
}

export function SmallButton({
  label,
  children,
  onClick,
  disabled,
}: {
  label: string;
  children: ReactNode;
  onClick: () => void;
  disabled?: boolean;
}) {
  return (
    <button
      type="button"
      aria-label={label}
      title={label}
      disabled={disabled}
      onClick={onClick}
      className="inline-flex h-7 w-7 shrink-0 items-center justify-center rounded border border-slate-300 text-xs text-slate-700 hover:bg-slate-100 disabled:opacity-30 dark:border-slate-600 dark:text-slate-200 dark:hover:bg-slate-800"
    >
      {children}
    </button>
  );
}

/** Known addresses as checkboxes plus any other address typed in. */
export function AddressChooser({
  id,
  label,
  help,
  known,
  value,
  onChange,
  error,
}: {
  id: string;
  label: string;
  help?: string;
  known: string[];
  value: string[];
  onChange: (v: string[]) => void;
  error?: string;
}) {
  const extra = value.filter((a) => !known.includes(a));
  const toggle = (a: string, on: boolean) => onChange(on ? [...value, a] : value.filter((x) => x !== a));
  return (
    <fieldset className="space-y-1.5">
      <legend className="mb-1 text-sm font-medium">{label}</legend>
      <div className="flex flex-wrap gap-x-4 gap-y-1">
        {[...known, ...extra].map((a) => (
          <label key={a} className="flex items-center gap-2 font-mono text-sm">
            <input
              type="checkbox"
              className="h-4 w-4 accent-sky-700"
              checked={value.includes(a)}
              onChange={(e) => toggle(a, e.target.checked)}
            />
            {a}
          </label>
        ))}
        {known.length === 0 && extra.length === 0 && (
          <span className="text-sm text-slate-500">The source reported no addresses; type one below.</span>
        )}
      </div>
      <DraftInput
        id={id}
        inputLabel={`Another address: ${label}`}
        buttonLabel={`Add address to ${label}`}
        buttonText="Add"
        placeholder="Another address"
        mono
        onAdd={(v) => {
          if (!value.includes(v)) onChange([...value, v]);
        }}
      />
      {help && !error && <HelpText>{help}</HelpText>}
      <FieldError message={error} />
    </fieldset>
  );
}

/** Two-column row on wide screens, one column on phones. */
export function Row({ children }: { children: ReactNode }) {
  return <div className="grid gap-4 sm:grid-cols-2">{children}</div>;
}

/** A text field with an Add button (Enter adds too); the trimmed text goes to `onAdd`. */
function DraftInput({
  id,
  inputLabel,
  buttonLabel,
  buttonText,
  placeholder,
  mono,
  onAdd,
}: {
  id: string;
  inputLabel: string;
  buttonLabel: string;
  buttonText: string;
  placeholder?: string;
  mono?: boolean;
  onAdd: (value: string) => void;
}) {
  const [draft, setDraft] = useState('');
  const add = () => {
    const v = draft.trim();
    if (!v) return;
    onAdd(v);
    setDraft('');
  };
  return (
    <div className="flex gap-2">
      <Input
        id={id}
        aria-label={inputLabel}
        value={draft}
        placeholder={placeholder}
        className={mono ? 'font-mono' : undefined}
        onChange={(e) => setDraft(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter') {
            e.preventDefault();
            add();
          }
        }}
      />
      <Button
        type="button"
        variant="secondary"
        className="shrink-0 whitespace-nowrap"
        onClick={add}
        disabled={!draft.trim()}
        aria-label={buttonLabel}
      >
        {buttonText}
      </Button>
    </div>
  );
}
