import { randomUUID } from 'node:crypto';
import { TRPCError } from '@trpc/server';
import { expect } from 'vitest';
import { ownerDb } from '@tandem/db/testing';
import { handleTrpcRequest } from '@/server/http';
import { appRouter } from '@/server/routers/_app';
import { createCallerFactory } from '@/server/trpc';

const createCaller = createCallerFactory(appRouter);
const origin = 'http://127.0.0.1:3100';

/**
 * Calls the API as the given user (null: signed out), in the given workspace (cookie value), and
 * optionally from a given server-side session (as the session cookie would name it).
 */
export function callerFor(userId: string | null, workspaceKey: string | null = null, sessionId: string | null = null) {
  return createCaller({ userId, workspaceKey, origin, sessionId });
}
export type Caller = ReturnType<typeof callerFor>;

/** Asserts a promise rejects with the given tRPC error code, and returns the error. */
export async function expectCode(promise: Promise<unknown>, code: TRPCError['code']): Promise<TRPCError> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err, `expected ${code}, but the call succeeded`).toBeInstanceOf(TRPCError);
  expect((err as TRPCError).code, (err as TRPCError).message).toBe(code);
  return err as TRPCError;
}

/** The procedure at a dotted path ("customer.get") of a caller. */
export function procedureAt(caller: Caller, path: string): (input?: unknown) => Promise<unknown> {
  let node: unknown = caller;
  for (const part of path.split('.')) node = (node as Record<string, unknown>)[part];
  return node as (input?: unknown) => Promise<unknown>;
}

/** Every procedure path of the root router ("customer.get", ...). */
export function allProcedurePaths(): string[] {
  return Object.keys((appRouter._def as unknown as { procedures: Record<string, unknown> }).procedures).sort();
}

/** The tRPC procedure object at a path (for its type and input parsers). */
export function procedureDef(path: string): { type: 'query' | 'mutation' | 'subscription'; inputs: unknown[] } {
  const procs = (
    appRouter._def as unknown as { procedures: Record<string, { _def: { type: 'query' | 'mutation'; inputs: unknown[] } }> }
  ).procedures;
  const p = procs[path];
  if (!p) throw new Error(`no procedure ${path}`);
  return p._def;
}

export interface HttpErrorBody {
  error: {
    message: string;
    code: number;
    data: { code: string; httpStatus: number; path: string; fields: Record<string, string> | null };
  };
}

/**
 * Calls a procedure over HTTP through the same handler as the Next.js route (its origin and
 * content-type checks, then tRPC's fetch adapter), so the answer is exactly what a browser gets.
 * Mutations are sent as the portal's own pages send them: JSON, with the app's Origin.
 */
export async function httpCall(userId: string | null, path: string, input?: unknown, workspaceKey: string | null = null) {
  const type = procedureDef(path).type;
  const url = new URL(`${origin}/api/trpc/${path}`);
  let init: RequestInit = { method: 'GET' };
  if (type === 'query') {
    if (input !== undefined) url.searchParams.set('input', JSON.stringify(input));
  } else {
    init = { method: 'POST', headers: { 'content-type': 'application/json', origin }, body: JSON.stringify(input ?? null) };
  }
  const res = await handleTrpcRequest(new Request(url, init), () => ({ userId, workspaceKey, origin }));
  return { status: res.status, body: (await res.json()) as HttpErrorBody | { result: { data: unknown } } };
}

/** A fresh, unique e-mail address. */
export const uniqueEmail = (label = 'person') => `${label}-${randomUUID().slice(0, 8)}@example.test`;

/** Audit events of an organization (owner connection: not subject to row-level security). */
export function auditEventsOf(organizationId: string) {
  return ownerDb().auditEvent.findMany({ where: { organizationId }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
}

/**
 * Everything of one organization that an API call could change, read through the owner
 * connection. Two snapshots are equal when nothing of that organization was written.
 */
export async function tenantSnapshot(organizationId: string) {
  const db = ownerDb();
  const where = { organizationId };
  const [organization, customers, servers, orgMemberships, customerMemberships, invitations, auditEvents, agents, enrollmentTokens, drillSchedules, operations, findingAcknowledgements] = await Promise.all([
    db.organization.findUnique({ where: { id: organizationId } }),
    db.customer.findMany({ where, orderBy: { id: 'asc' } }),
    db.server.findMany({ where, orderBy: { id: 'asc' } }),
    db.orgMembership.findMany({ where, orderBy: { id: 'asc' } }),
    db.customerMembership.findMany({ where, orderBy: { id: 'asc' } }),
    db.invitation.findMany({ where, orderBy: { id: 'asc' } }),
    db.auditEvent.findMany({ where, orderBy: { id: 'asc' } }),
    db.agent.findMany({ where, orderBy: { id: 'asc' } }),
    db.enrollmentToken.findMany({ where, orderBy: { id: 'asc' } }),
    db.drillSchedule.findMany({ where, orderBy: { id: 'asc' } }),
    db.operation.findMany({ where, orderBy: { id: 'asc' } }),
    db.findingAcknowledgement.findMany({ where, orderBy: { id: 'asc' } }),
  ]);
  return { organization, customers, servers, orgMemberships, customerMemberships, invitations, auditEvents, agents, enrollmentTokens, drillSchedules, operations, findingAcknowledgements };
}
