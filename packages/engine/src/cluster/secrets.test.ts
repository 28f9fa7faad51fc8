import { describe, expect, it } from 'vitest';
import { diffClusterConfig } from './diff.ts';
import { hideClusterSecrets } from './secrets.ts';

describe('hideClusterSecrets', () => {
  it('hides the values of secret-looking nvpairs in a CIB and keeps everything else', () => {
    const cib = `<cib><configuration><resources>
      <primitive id="fence-1" class="stonith" type="fence_ipmilan"><instance_attributes id="fi">
        <nvpair id="fi-ip" name="ip" value="10.0.0.9"/>
        <nvpair id="fi-user" name="username" value="admin"/>
        <nvpair id="fi-pw" name="password" value="hunter2"/>
        <nvpair id="fi-pw2" name='passwd' value='s3cret'/>
      </instance_attributes></primitive>
      <primitive id="api" class="ocf" provider="x" type="y"><instance_attributes id="ai"><nvpair id="ai-k" name="api_key" value="abc123"/></instance_attributes></primitive>
    </resources></configuration></cib>`;
    const out = hideClusterSecrets(cib);
    expect(out).not.toMatch(/hunter2|s3cret|abc123/);
    expect(out).toContain('name="password" value="(hidden)"');
    expect(out).toContain('value="10.0.0.9"');
    expect(out).toContain('value="admin"');
    // The diff of two versions shows the rest of a change, never the secret.
    const d = diffClusterConfig(hideClusterSecrets(cib), hideClusterSecrets(cib.replace('10.0.0.9', '10.0.0.10').replace('hunter2', 'other')));
    expect(JSON.stringify(d.hunks)).toContain('10.0.0.10');
    expect(JSON.stringify(d.hunks)).not.toMatch(/hunter2|other"/);
  });

  it('hides {Name, Value} parameters and secret-named properties in a Windows manifest', () => {
    const manifest = JSON.stringify({ resources: [{ name: 'SQL', parameters: [{ Name: 'Password', Value: 'pw1' }, { Name: 'Address', Value: '10.1.1.1' }] }], clientSecret: 'xyz' });
    const out = hideClusterSecrets(manifest);
    expect(out).not.toMatch(/pw1|xyz/);
    expect(out).toContain('10.1.1.1');
    expect(JSON.parse(out)).toMatchObject({ resources: [{ parameters: [{ Name: 'Password', Value: '(hidden)' }, { Value: '10.1.1.1' }] }], clientSecret: '(hidden)' });
  });

  it('leaves text without secrets unchanged', () => {
    expect(hideClusterSecrets('<cib><nvpair id="a" name="target-role" value="Started"/></cib>')).toBe('<cib><nvpair id="a" name="target-role" value="Started"/></cib>');
  });
});
