import type { NextConfig } from 'next';

const config: NextConfig = {
  // npm test builds into its own directory so it can run beside npm start.
  distDir: process.env.TANDEM_NEXT_DIST ?? '.next',
  // Workspace packages ship TypeScript sources.
  transpilePackages: ['@tandem/db', '@tandem/engine', '@tandem/security', '@tandem/protocol', '@tandem/agent-bus', '@tandem/jobs'],
  serverExternalPackages: ['@prisma/client', '@prisma/adapter-pg', 'pg', 'bcryptjs', 'ioredis', 'bullmq'],
  poweredByHeader: false,
  typescript: { ignoreBuildErrors: false },
  headers() {
    return Promise.resolve([
      {
        source: '/:path*',
        headers: [
          { key: 'X-Frame-Options', value: 'DENY' },
          { key: 'X-Content-Type-Options', value: 'nosniff' },
          { key: 'Referrer-Policy', value: 'same-origin' },
        ],
      },
    ]);
  },
};

export default config;
