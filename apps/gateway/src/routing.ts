// Routing: orders for agents this gateway holds arrive on its Redis channel (commands and
// disconnects, published by web or worker through packages/agent-bus, signed with the bus key)
// and go to the agent's socket.
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { gatewayOrderSchema, keys, OrderVerifier } from '@tandem/agent-bus';
import { gatewayMessages } from '@tandem/protocol';
import { log, relayReply, rememberCommand, send, type GatewayContext } from './context.ts';

export async function listenForOrders(ctx: GatewayContext, sub: Redis) {
  await sub.subscribe(keys.gateway(ctx.env.GATEWAY_ID));
  const verifier = new OrderVerifier(ctx.env.TANDEM_BUS_KEY);
  let dropped = 0;
  sub.on('message', (_channel: string, raw: string) => {
    // Only orders signed with the bus key reach an agent: Redis access alone is not enough.
    const verified = verifier.verify(raw);
    if (!verified.ok) {
      // Logged, but not without bound: whoever can publish must not be able to flood the log.
      if (++dropped <= 5 || dropped % 100 === 0) log('dropped an order that is not validly signed', { reason: verified.reason, droppedSoFar: dropped });
      return;
    }
    const order = gatewayOrderSchema.safeParse(verified.order);
    if (!order.success) return log('ignored a malformed order', { error: z.prettifyError(order.error) });
    const o = order.data;
    const s = ctx.sessions.get(o.agentId);
    if (o.kind === 'disconnect') {
      s?.ws.close(o.code, o.reason);
      ctx.relay.disconnectAgent(o.agentId, o.code, o.reason);
      return;
    }
    if (!s?.ready) {
      relayReply(ctx, o.commandId, { stage: 'result', ok: false, error: { code: 'agent_offline', message: 'The agent is not connected to this gateway' } });
      return;
    }
    const parsedAction = gatewayMessages.command.shape.action.safeParse(o.action);
    if (!parsedAction.success) {
      relayReply(ctx, o.commandId, { stage: 'result', ok: false, error: { code: 'bad_action', message: `Unknown action ${o.action}` } });
      return;
    }
    rememberCommand(ctx, o.commandId, o.agentId, o.timeoutMs);
    send(s, 'command', { commandId: o.commandId, action: parsedAction.data, args: o.args, timeoutMs: o.timeoutMs });
  });
}
