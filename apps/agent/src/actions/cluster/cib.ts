// Reading Pacemaker's CIB (cibadmin --query): constraints, target-role meta attributes and fencing
// for the cluster facts, and a canonical form of the <configuration> section whose SHA-256 names a
// configuration version (status churn and attribute order do not change it).
import { createHash } from 'node:crypto';
import type { ClusterFacts } from '@tandem/protocol';
import { child, children, parseXml, type XmlElement } from '../../facts/xml.ts';

type Constraint = ClusterFacts['constraints'][number];

const truthy = new Set(['true', 'yes', 'on', 'y', '1']);

/** The CIB's root <cib> element (also accepts a bare <configuration>). */
export function cibRoot(xml: string): XmlElement {
  const top = parseXml(xml).children[0]!;
  if (top.name !== 'cib' && top.name !== 'configuration') throw new Error(`not a Pacemaker CIB (root element <${top.name}>)`);
  return top;
}

export function configurationOf(top: XmlElement): XmlElement {
  const conf = top.name === 'configuration' ? top : child(top, 'configuration');
  if (!conf) throw new Error('the CIB has no <configuration> section');
  return conf;
}

function metaValue(el: XmlElement, name: string): string | null {
  for (const set of children(el, 'meta_attributes')) {
    const nv = children(set, 'nvpair').find((n) => n.attrs.name === name);
    if (nv?.attrs.value !== undefined) return nv.attrs.value;
  }
  return null;
}

/** Resource sets (<resource_set><resource_ref id/>) flattened, for constraints written with sets. */
function setMembers(el: XmlElement): string[] {
  return children(el, 'resource_set')
    .flatMap((s) => children(s, 'resource_ref').map((r) => r.attrs.id ?? ''))
    .filter(Boolean);
}

export interface CibFacts {
  /** Resource (primitive, group, clone) id → its target-role, inherited from the enclosing group or clone when unset. */
  targetRoles: Map<string, string>;
  constraints: Constraint[];
  fencing: { enabled: boolean | null; devices: number };
}

export function cibFacts(top: XmlElement): CibFacts {
  const conf = configurationOf(top);
  const targetRoles = new Map<string, string>();
  let devices = 0;
  const walk = (el: XmlElement, inherited: string | null) => {
    for (const c of el.children) {
      if (!['primitive', 'group', 'clone', 'master', 'bundle'].includes(c.name)) continue;
      const own = metaValue(c, 'target-role') ?? inherited;
      if (c.attrs.id && own) targetRoles.set(c.attrs.id, own);
      if (c.name === 'primitive' && c.attrs.class === 'stonith') devices++;
      walk(c, own);
    }
  };
  walk(child(conf, 'resources') ?? { name: 'resources', attrs: {}, children: [] }, null);

  const constraints: Constraint[] = [];
  for (const c of child(conf, 'constraints')?.children ?? []) {
    const id = c.attrs.id ?? '';
    const members = setMembers(c);
    const score = c.attrs.score ?? c.attrs['score-attribute'] ?? null;
    if (c.name === 'rsc_location') {
      const resource = c.attrs.rsc ?? c.attrs['rsc-pattern'] ?? members[0];
      if (resource) constraints.push({ id, kind: 'location', resource, node: c.attrs.node ?? null, with: null, score });
    } else if (c.name === 'rsc_colocation') {
      const resource = c.attrs.rsc ?? members[0];
      const withRsc = c.attrs['with-rsc'] ?? members[1] ?? null;
      if (resource) constraints.push({ id, kind: 'colocation', resource, node: null, with: withRsc, score });
    } else if (c.name === 'rsc_order') {
      const resource = c.attrs.first ?? members[0];
      const then = c.attrs.then ?? members[1] ?? null;
      if (resource) constraints.push({ id, kind: 'order', resource, node: null, with: then, score });
    } else if (c.name === 'rsc_ticket') {
      // `with` names the ticket the resource depends on.
      const resource = c.attrs.rsc ?? members[0];
      if (resource) constraints.push({ id, kind: 'ticket', resource, node: null, with: c.attrs.ticket ?? null, score: null });
    }
  }

  // stonith-enabled defaults to true when no property set says otherwise.
  let enabled: boolean | null = true;
  for (const set of children(child(conf, 'crm_config'), 'cluster_property_set')) {
    const nv = children(set, 'nvpair').find((n) => n.attrs.name === 'stonith-enabled');
    if (nv?.attrs.value !== undefined) enabled = truthy.has(nv.attrs.value.toLowerCase());
  }
  return { targetRoles, constraints, fencing: { enabled, devices } };
}

/** Attributes Pacemaker rewrites on its own in <configuration> (they say nothing about the setup). */
const VOLATILE_PROPERTIES = new Set(['dc-version', 'cluster-infrastructure', 'have-watchdog', 'last-lrm-refresh']);

function canonical(el: XmlElement): string {
  if (el.name === 'nvpair' && VOLATILE_PROPERTIES.has(el.attrs.name ?? '')) return '';
  const attrs = Object.keys(el.attrs)
    .sort()
    .map((k) => ` ${k}="${escapeAttr(el.attrs[k]!)}"`)
    .join('');
  const inner = el.children.map(canonical).join('');
  return `<${el.name}${attrs}>${inner}</${el.name}>`;
}

export function escapeAttr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** SHA-256 over the canonical <configuration>: sorted attributes, no whitespace or comments, volatile properties left out. */
export function configurationSha256(top: XmlElement): string {
  return createHash('sha256')
    .update(canonical(configurationOf(top)))
    .digest('hex');
}

/** "admin_epoch.epoch.num_updates" of a <cib> root. */
export function cibEpoch(top: XmlElement): string | null {
  if (top.name !== 'cib') return null;
  const n = (k: string) => Number.parseInt(top.attrs[k] ?? '0', 10) || 0;
  return `${n('admin_epoch')}.${n('epoch')}.${n('num_updates')}`;
}
