import { TRPCError } from '@trpc/server';
import { expect } from 'vitest';
import { appRouter } from '@/server/routers/_app';
import { createCallerFactory } from '@/server/trpc';

const createCaller = createCallerFactory(appRouter);

/** Calls the API as the given user (null: signed out), in the given workspace (cookie value). */
export function callerFor(userId: string | null, workspaceKey: string | null = null) {
  return createCaller({ userId, workspaceKey, origin: 'http://127.0.0.1:3100' });
}

/** Asserts a promise rejects with the given tRPC error code, and returns the error. */
export async function expectCode(promise: Promise<unknown>, code: TRPCError['code']): Promise<TRPCError> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err, `expected ${code}, but the call succeeded`).toBeInstanceOf(TRPCError);
  expect((err as TRPCError).code).toBe(code);
  return err as TRPCError;
}
