import type { NextConfig } from 'next';

/**
 * Content-Security-Policy. Next.js streams the page's data in inline <script> tags, so scripts
 * need 'unsafe-inline' (nonces would make every page dynamic); everything else is this origin
 * only, nothing may frame the portal, plugins are off and forms post only here. Styles: the
 * stylesheet plus React's style attributes (progress bars). `next dev` also needs eval.
 */
export const contentSecurityPolicy = [
  "default-src 'self'",
  `script-src 'self' 'unsafe-inline'${process.env.NODE_ENV === 'development' ? " 'unsafe-eval'" : ''}`,
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "worker-src 'self' blob:",
  "manifest-src 'self'",
].join('; ');

/** Browser features the portal never uses are off; copying enrolment commands needs the clipboard. */
export const permissionsPolicy = [
  'camera=()',
  'microphone=()',
  'geolocation=()',
  'payment=()',
  'usb=()',
  'serial=()',
  'bluetooth=()',
  'hid=()',
  'midi=()',
  'display-capture=()',
  'accelerometer=()',
  'gyroscope=()',
  'magnetometer=()',
  'browsing-topics=()',
  'clipboard-read=()',
  'clipboard-write=(self)',
].join(', ');

const config: NextConfig = {
  // npm test builds into its own directory so it can run beside npm start.
  distDir: process.env.TANDEM_NEXT_DIST ?? '.next',
  // Workspace packages ship TypeScript sources.
  transpilePackages: ['@tandem/db', '@tandem/engine', '@tandem/security', '@tandem/protocol', '@tandem/agent-bus', '@tandem/jobs', '@tandem/reports'],
  serverExternalPackages: ['@prisma/client', '@prisma/adapter-pg', 'pg', 'bcryptjs', 'ioredis', 'bullmq', 'pdfkit'],
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
          { key: 'Content-Security-Policy', value: contentSecurityPolicy },
          { key: 'Permissions-Policy', value: permissionsPolicy },
        ],
      },
    ]);
  },
};

export default config;
