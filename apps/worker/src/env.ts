import { z } from 'zod';

const schema = z.object({
  APP_DATABASE_URL: z.string().startsWith('postgresql://', 'APP_DATABASE_URL must be a postgresql:// URL'),
  REDIS_URL: z.string().startsWith('redis://', 'REDIS_URL must be a redis:// URL'),
});

export function workerEnv() {
  const parsed = schema.safeParse(process.env);
  if (!parsed.success) {
    throw new Error(`Invalid worker environment:\n${parsed.error.issues.map((i) => `- ${i.path.join('.')}: ${i.message}`).join('\n')}`);
  }
  return parsed.data;
}
