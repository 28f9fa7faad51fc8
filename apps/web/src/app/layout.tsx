import '@fontsource-variable/inter';
import './globals.css';
import type { Metadata } from 'next';
import type { ReactNode } from 'react';
import { TrpcProviders } from '@/trpc/client';

export const metadata: Metadata = { title: 'Tandem', description: 'High availability for your customers’ servers' };

// Applies the saved theme (or the OS preference) before the first paint: no flash of light mode.
const themeScript = `try{var t=localStorage.getItem('tandem-theme');if(t==='dark'||(!t&&matchMedia('(prefers-color-scheme: dark)').matches))document.documentElement.classList.add('dark')}catch(e){}`;

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en" suppressHydrationWarning>
      <head>
        <script dangerouslySetInnerHTML={{ __html: themeScript }} />
      </head>
      <body className="min-h-screen bg-slate-50 font-sans text-slate-900 antialiased dark:bg-slate-950 dark:text-slate-100">
        <TrpcProviders>{children}</TrpcProviders>
      </body>
    </html>
  );
}
