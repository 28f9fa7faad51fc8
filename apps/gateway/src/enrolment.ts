// Enrolment: `POST /enroll` trades a one-time token for an agent credential (store.ts enroll).
import type http from 'node:http';
import { z } from 'zod';
import { log } from './context.ts';
import { enroll, EnrollmentError } from './store.ts';

const enrollBody = z.strictObject({
  token: z.string().min(20).max(200),
  hostname: z.string().trim().min(1).max(253).regex(/^[A-Za-z0-9][A-Za-z0-9.-]*$/, 'Not a valid host name'),
  osFamily: z.enum(['linux', 'windows']),
  osVersion: z.string().max(200).optional(),
});

export async function handleEnroll(req: http.IncomingMessage, json: (status: number, body: unknown) => void) {
  let body = '';
  for await (const chunk of req) {
    body += String(chunk);
    if (body.length > 16_384) return json(413, { error: 'Request too large' });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch {
    return json(400, { error: 'Body is not JSON' });
  }
  const parsed = enrollBody.safeParse(raw);
  if (!parsed.success) return json(400, { error: z.prettifyError(parsed.error) });
  try {
    const result = await enroll(parsed.data);
    log('agent enrolled', { agentId: result.agentId, serverId: result.serverId });
    return json(200, result);
  } catch (err) {
    if (err instanceof EnrollmentError) return json(err.status, { error: err.message });
    log('enrolment failed', { error: String(err) });
    return json(500, { error: 'Enrolment failed' });
  }
}
