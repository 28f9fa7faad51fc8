import { describe, expect, it } from 'vitest';
import config, { contentSecurityPolicy, permissionsPolicy } from '../../next.config';

describe('security headers (next.config.ts)', () => {
  it('every path gets the CSP, Permissions-Policy and the framing/sniffing headers', async () => {
    const rules = await config.headers!();
    const all = rules.find((r) => r.source === '/:path*');
    const byKey = Object.fromEntries(all!.headers.map((h) => [h.key, h.value]));
    expect(byKey['Content-Security-Policy']).toBe(contentSecurityPolicy);
    expect(byKey['Permissions-Policy']).toBe(permissionsPolicy);
    expect(byKey['X-Frame-Options']).toBe('DENY');
    expect(byKey['X-Content-Type-Options']).toBe('nosniff');
  });

  it('the CSP keeps everything to this origin, forbids framing and plugins, and (outside next dev) eval', () => {
    const directives = new Map(contentSecurityPolicy.split(';').map((d) => {
      const [name, ...values] = d.trim().split(/\s+/);
      return [name!, values];
    }));
    expect(directives.get('default-src')).toEqual(["'self'"]);
    expect(directives.get('frame-ancestors')).toEqual(["'none'"]);
    expect(directives.get('object-src')).toEqual(["'none'"]);
    expect(directives.get('base-uri')).toEqual(["'self'"]);
    expect(directives.get('form-action')).toEqual(["'self'"]);
    expect(directives.get('connect-src')).toEqual(["'self'"]);
    expect(directives.get('script-src')).not.toContain("'unsafe-eval'");
    for (const values of directives.values()) expect(values.some((v) => v === '*' || v.startsWith('http'))).toBe(false);
  });

  it('Permissions-Policy turns off camera, microphone and location; the clipboard is writable by the portal only', () => {
    const features = permissionsPolicy.split(', ');
    for (const f of ['camera=()', 'microphone=()', 'geolocation=()', 'clipboard-write=(self)']) expect(features).toContain(f);
  });
});
