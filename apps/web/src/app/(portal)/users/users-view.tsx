'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { canGrantOrgRole, customerRoles, orgRoleAtLeast, orgRoles, type OrgRole } from '@tandem/engine';
import { InviteForm } from '@/components/invite-form';
import { Badge, Button, Card, ErrorBanner, PageHeader, Select, tableStyles as t } from '@/components/ui';
import { describeError, useTRPC } from '@/trpc/client';

export function UsersView({ role, selfId }: { role: OrgRole; selfId: string }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const members = useQuery(trpc.member.list.queryOptions());
  const invitations = useQuery({ ...trpc.invitation.list.queryOptions(), enabled: orgRoleAtLeast(role, 'operator') });
  const refresh = () => qc.invalidateQueries({ queryKey: trpc.member.pathKey() });
  const onError = { onSuccess: refresh };
  const updateOrgRole = useMutation(trpc.member.updateOrgRole.mutationOptions(onError));
  const removeOrgMember = useMutation(trpc.member.removeOrgMember.mutationOptions(onError));
  const updateCustomerRole = useMutation(trpc.member.updateCustomerRole.mutationOptions(onError));
  const removeCustomerMember = useMutation(trpc.member.removeCustomerMember.mutationOptions(onError));
  const revoke = useMutation(
    trpc.invitation.revoke.mutationOptions({ onSuccess: () => qc.invalidateQueries({ queryKey: trpc.invitation.pathKey() }) }),
  );
  const mutationError = [updateOrgRole, removeOrgMember, updateCustomerRole, removeCustomerMember, revoke].find((m) => m.error)?.error;
  const isAdmin = orgRoleAtLeast(role, 'admin');
  const isOperator = orgRoleAtLeast(role, 'operator');

  return (
    <>
      <PageHeader title="Users and roles" description="Your staff, your customers’ users, and pending invitations." />
      <ErrorBanner message={mutationError ? describeError(mutationError).message : null} />
      {members.error && <ErrorBanner message={describeError(members.error).message} />}

      <Card className="mb-4">
        <h2 className="mb-3 text-lg font-semibold">MSP staff</h2>
        <div className="overflow-x-auto">
          <table className={t.table}>
            <thead className={t.head}>
              <tr>
                <th className={t.cell}>Name</th>
                <th className={t.cell}>E-mail</th>
                <th className={t.cell}>Role</th>
                <th className={t.cell}>2FA</th>
                <th className={t.cell}>
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {members.data?.staff.map((m) => {
                const manageable = isAdmin && canGrantOrgRole(role, m.role) && m.user.id !== selfId;
                return (
                  <tr key={m.membershipId} className={t.row}>
                    <td className={t.cell}>{m.user.name}</td>
                    <td className={t.cell}>{m.user.email}</td>
                    <td className={t.cell}>
                      {manageable ? (
                        <Select
                          aria-label={`Role of ${m.user.email}`}
                          value={m.role}
                          onChange={(e) => updateOrgRole.mutate({ membershipId: m.membershipId, role: e.target.value as OrgRole })}
                          className="w-32"
                        >
                          {orgRoles.filter((r) => canGrantOrgRole(role, r)).map((r) => (
                            <option key={r}>{r}</option>
                          ))}
                        </Select>
                      ) : (
                        <Badge tone="sky">{m.role}</Badge>
                      )}
                    </td>
                    <td className={t.cell}>{m.user.totpEnabled ? <Badge tone="green">on</Badge> : <Badge>off</Badge>}</td>
                    <td className={t.cell}>
                      {manageable && (
                        <Button
                          variant="ghost"
                          onClick={() => confirm(`Remove ${m.user.email} from the organization?`) && removeOrgMember.mutate({ membershipId: m.membershipId })}
                        >
                          Remove
                        </Button>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      </Card>

      <Card className="mb-4">
        <h2 className="mb-3 text-lg font-semibold">Customer users</h2>
        {members.data?.customerUsers.length === 0 && <p className="text-sm text-slate-500">No customer users yet.</p>}
        {members.data && members.data.customerUsers.length > 0 && (
          <div className="overflow-x-auto">
            <table className={t.table}>
              <thead className={t.head}>
                <tr>
                  <th className={t.cell}>Name</th>
                  <th className={t.cell}>E-mail</th>
                  <th className={t.cell}>Customer</th>
                  <th className={t.cell}>Role</th>
                  <th className={t.cell}>
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {members.data.customerUsers.map((m) => (
                  <tr key={m.membershipId} className={t.row}>
                    <td className={t.cell}>{m.user.name}</td>
                    <td className={t.cell}>{m.user.email}</td>
                    <td className={t.cell}>{m.customerName}</td>
                    <td className={t.cell}>
                      {isOperator ? (
                        <Select
                          aria-label={`Role of ${m.user.email} at ${m.customerName}`}
                          value={m.role}
                          onChange={(e) => updateCustomerRole.mutate({ membershipId: m.membershipId, role: e.target.value as 'approver' | 'viewer' })}
                          className="w-32"
                        >
                          {customerRoles.map((r) => (
                            <option key={r}>{r}</option>
                          ))}
                        </Select>
                      ) : (
                        <Badge tone="sky">{m.role}</Badge>
                      )}
                    </td>
                    <td className={t.cell}>
                      {isOperator && (
                        <Button
                          variant="ghost"
                          onClick={() =>
                            confirm(`Remove ${m.user.email} from ${m.customerName}?`) && removeCustomerMember.mutate({ membershipId: m.membershipId })
                          }
                        >
                          Remove
                        </Button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Card>

      {isOperator && (
        <Card className="mb-4">
          <h2 className="mb-3 text-lg font-semibold">Invite someone</h2>
          <InviteForm />
          {invitations.data && invitations.data.length > 0 && (
            <div className="mt-6 overflow-x-auto">
              <h3 className="mb-2 text-sm font-semibold">Pending invitations</h3>
              <table className={t.table}>
                <thead className={t.head}>
                  <tr>
                    <th className={t.cell}>E-mail</th>
                    <th className={t.cell}>To</th>
                    <th className={t.cell}>Role</th>
                    <th className={t.cell}>Expires</th>
                    <th className={t.cell}>
                      <span className="sr-only">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {invitations.data.map((i) => (
                    <tr key={i.id} className={t.row}>
                      <td className={t.cell}>{i.email}</td>
                      <td className={t.cell}>{i.customerName ?? 'Organization'}</td>
                      <td className={t.cell}>{i.role}</td>
                      <td className={t.cell}>{new Date(i.expiresAt).toLocaleString()}</td>
                      <td className={t.cell}>
                        <Button variant="ghost" onClick={() => revoke.mutate({ invitationId: i.id })}>
                          Revoke
                        </Button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </Card>
      )}
    </>
  );
}
