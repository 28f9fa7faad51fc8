// The environment infra/start.mjs and infra/test.mjs give the web app (tandemEnv).
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

type TandemEnv = (servers: unknown, extra?: Record<string, string>) => Record<string, string | undefined>;
const libUrl = pathToFileURL(path.resolve(__dirname, '../../infra/lib.mjs')).href;
const servers = {
  ownerUrl: 'postgresql://owner@127.0.0.1:1/x',
  appUrl: 'postgresql://app@127.0.0.1:1/x',
  redisUrl: 'redis://127.0.0.1:1/0',
  secrets: { authSecret: 'a'.repeat(40), encryptionKey: 'b'.repeat(44), busKey: 'c'.repeat(44), redisPassword: 'd'.repeat(32) },
};

describe('tandemEnv', () => {
  let saved: string | undefined;
  beforeEach(() => {
    saved = process.env.AUTH_URL;
    delete process.env.AUTH_URL;
  });
  afterEach(() => {
    if (saved === undefined) delete process.env.AUTH_URL;
    else process.env.AUTH_URL = saved;
  });

  it('gives next-auth the same base URL the app prints (not the localhost Next.js assumes)', async () => {
    const { tandemEnv } = (await import(/* @vite-ignore */ libUrl)) as { tandemEnv: TandemEnv };
    expect(tandemEnv(servers, { TANDEM_PUBLIC_URL: 'http://127.0.0.1:3100' }).AUTH_URL).toBe('http://127.0.0.1:3100');
  });

  it('an AUTH_URL set by whoever runs it wins', async () => {
    process.env.AUTH_URL = 'https://tandem.example.com';
    const { tandemEnv } = (await import(/* @vite-ignore */ libUrl)) as { tandemEnv: TandemEnv };
    expect(tandemEnv(servers, { TANDEM_PUBLIC_URL: 'http://127.0.0.1:3100' }).AUTH_URL).toBe('https://tandem.example.com');
  });
});
