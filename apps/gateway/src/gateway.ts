// The gateway: holds agents' outbound WebSockets, authenticates them, keeps their status, and
// relays commands from Redis to them and their answers back. On RELAY_PATH it also joins the
// replication data channels of pairs whose agents cannot reach each other (relay.ts).
//
// This file wires the parts together: enrolment.ts (POST /enroll), routing.ts (orders from
// Redis), sessions.ts (accepting and tracking agent sockets), dispatch.ts (each agent frame).
import http from 'node:http';
import { Redis } from 'ioredis';
import { WebSocketServer } from 'ws';
import { closeCodes, RELAY_PATH, TRANSPORT_MAX_FRAME_BYTES } from '@tandem/protocol';
import { log, type GatewayContext, type Session } from './context.ts';
import { handleEnroll } from './enrolment.ts';
import type { GatewayEnv } from './env.ts';
import { createRelayHub } from './relay.ts';
import { listenForOrders } from './routing.ts';
import { acceptAgent, startLastSeenFlusher } from './sessions.ts';

export interface Gateway {
  port: number;
  close(): Promise<void>;
  sessions: Map<string, Session>;
}

/** The path of a request target (null when it cannot be parsed). */
function pathOf(url: string | undefined): string | null {
  try {
    return new URL(url ?? '/', 'http://gateway').pathname;
  } catch {
    return null;
  }
}

export async function startGateway(env: GatewayEnv): Promise<Gateway> {
  const redis = new Redis(env.REDIS_URL);
  const sub = new Redis(env.REDIS_URL);
  const relay = createRelayHub({ waitMs: env.RELAY_WAIT_MS, idleMs: env.RELAY_IDLE_MS, maxPerPair: env.RELAY_MAX_PER_PAIR, pingMs: env.RELAY_PING_MS, log });
  const ctx: GatewayContext = { env, redis, sessions: new Map(), relay, commands: new Map(), waiting: new Map() };
  const { sessions } = ctx;

  await listenForOrders(ctx, sub);

  const server = http.createServer((req, res) => void handleHttp(req, res));
  const wss = new WebSocketServer({ noServer: true, maxPayload: TRANSPORT_MAX_FRAME_BYTES });

  async function handleHttp(req: http.IncomingMessage, res: http.ServerResponse) {
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method === 'GET' && req.url === '/health') return json(200, { ok: true, gatewayId: env.GATEWAY_ID, agents: sessions.size, relay: relay.stats() });
    if (req.method === 'POST' && req.url === '/enroll') return handleEnroll(req, json);
    json(404, { error: 'Not found' });
  }

  server.on('upgrade', (req, socket, head) => {
    if (pathOf(req.url) === RELAY_PATH) {
      relay.handleUpgrade(req, socket, head);
      return;
    }
    if (!req.url?.startsWith('/agent')) {
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => void acceptAgent(ctx, ws, req));
  });

  const flusher = startLastSeenFlusher(ctx);

  await new Promise<void>((resolve) => server.listen(env.GATEWAY_PORT, env.GATEWAY_HOST, resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : env.GATEWAY_PORT;
  log(`listening on ${env.GATEWAY_HOST}:${port} as ${env.GATEWAY_ID}`);

  return {
    port,
    sessions,
    async close() {
      clearInterval(flusher);
      for (const s of sessions.values()) s.ws.close(closeCodes.shuttingDown, 'Gateway shutting down');
      await relay.close();
      wss.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      sub.disconnect();
      redis.disconnect();
    },
  };
}
