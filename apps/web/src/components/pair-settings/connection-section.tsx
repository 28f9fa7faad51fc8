'use client';

import { DEFAULT_IN_PLACE_MIB, replicationMethodFor, settingsHelp } from '@tandem/engine';
import { Field, Input, Select } from '../ui';
import { FieldError, RadioField, Row, Section } from './form-bits';
import { DatabaseFields } from './database-fields';
import { NumberField } from './number-field';
import { RouteField } from './route-field';
import { P, type Connection, type PostgresInstanceOption, type SectionProps } from './types';

/** How replication travels from the source to the target. */
export function ConnectionSection({
  value: s,
  onChange,
  err,
  sourceAddresses,
  targetAddresses,
  sourceHostname,
  targetHostname,
  postgres,
}: SectionProps & {
  sourceAddresses: string[];
  targetAddresses: string[];
  sourceHostname: string;
  targetHostname: string;
  postgres?: { source: PostgresInstanceOption[]; target: PostgresInstanceOption[] } | null;
}) {
  const setConnection = (patch: Partial<Connection>) => onChange({ ...s, connection: { ...s.connection, ...patch } });
  const method = replicationMethodFor[s.application];
  /** File pairs through the gateway relay: the target's address and data port are not used. */
  const relayed = method === 'file' && s.connection.routeMode === 'relay';
  return (
    <Section title="Connection" description={`How replication travels from ${sourceHostname} to ${targetHostname}.`}>
      {method === 'file' && (
        <RadioField
          name={`${P}-route-mode`}
          legend="Data route"
          help={settingsHelp.routeMode}
          value={s.connection.routeMode}
          options={[
            { value: 'direct', label: 'Direct', hint: `${sourceHostname} connects to ${targetHostname}` },
            { value: 'relay', label: 'Relay through Tandem', hint: 'for sites that cannot reach each other' },
          ]}
          onChange={(routeMode) => setConnection({ routeMode })}
          error={err('connection.routeMode')}
        />
      )}
      {relayed ? (
        <div>
          <p data-testid="relay-note" className="text-sm text-slate-600 dark:text-slate-300">
            Both agents connect out to the Tandem gateway, which joins their connections; no address or port of {targetHostname}{' '}
            needs to be reachable from {sourceHostname}. The data stays encrypted with the pair’s own key all the way.
          </p>
          {/* The route address is kept for the direct route; a bad one is still reported here. */}
          <FieldError
            message={err('connection.route') && `Route address (switch to Direct to change it): ${err('connection.route')}`}
          />
        </div>
      ) : (
        <RouteField
          value={s.connection.route}
          known={targetAddresses}
          onChange={(route) => setConnection({ route })}
          error={err('connection.route')}
        />
      )}
      {method === 'postgresql_streaming' && (
        <DatabaseFields
          value={s.connection.database}
          onChange={(database) => setConnection({ database })}
          instances={postgres ?? { source: [], target: [] }}
          sourceAddresses={sourceAddresses}
          err={err}
        />
      )}
      {method === 'file' && (
        <>
          <Row>
            {!relayed && (
              <NumberField
                id={`${P}-data-port`}
                label="Data port (TCP)"
                help={settingsHelp.dataPort}
                value={s.connection.port}
                onChange={(port) => setConnection({ port })}
                error={err('connection.port')}
              />
            )}
            <Field
              id={`${P}-bandwidth`}
              label="Bandwidth limit (kbit/s)"
              help={settingsHelp.bandwidthLimit}
              error={err('connection.bandwidthLimitKbps')}
            >
              <Input
                id={`${P}-bandwidth`}
                inputMode="numeric"
                placeholder="No limit"
                value={
                  s.connection.bandwidthLimitKbps === null
                    ? ''
                    : Number.isNaN(s.connection.bandwidthLimitKbps)
                      ? ''
                      : String(s.connection.bandwidthLimitKbps)
                }
                onChange={(e) =>
                  setConnection({ bandwidthLimitKbps: e.target.value.trim() === '' ? null : Number(e.target.value) })
                }
                aria-invalid={!!err('connection.bandwidthLimitKbps')}
              />
            </Field>
          </Row>
          <Row>
            <Field id={`${P}-mirror`} label="Mirror type" help={settingsHelp.mirror}>
              <Select
                id={`${P}-mirror`}
                value={s.connection.mirror}
                onChange={(e) => setConnection({ mirror: e.target.value as Connection['mirror'] })}
              >
                <option value="checksum">Checksum (send differing blocks)</option>
                <option value="full">Full (send everything)</option>
                <option value="differences">Differences (skip unchanged files)</option>
              </Select>
            </Field>
            <Field id={`${P}-compression`} label="Compression" help={settingsHelp.compression}>
              <Select
                id={`${P}-compression`}
                value={s.connection.compression}
                onChange={(e) => setConnection({ compression: e.target.value as Connection['compression'] })}
              >
                <option value="off">Off</option>
                <option value="fast">Fast</option>
                <option value="best">Best</option>
              </Select>
            </Field>
          </Row>
          <Row>
            <Field id={`${P}-orphans`} label="Orphaned files on the target" help={settingsHelp.orphans}>
              <Select
                id={`${P}-orphans`}
                value={s.connection.orphans}
                onChange={(e) => setConnection({ orphans: e.target.value as Connection['orphans'] })}
              >
                <option value="delete">Delete them</option>
                <option value="keep">Keep them</option>
                <option value="move-aside">Move them aside</option>
              </Select>
            </Field>
            <Field
              id={`${P}-target-root`}
              label="Target directory"
              help={settingsHelp.targetRoot}
              error={err('connection.targetRoot')}
            >
              <Input
                id={`${P}-target-root`}
                className="font-mono"
                value={s.connection.targetRoot}
                onChange={(e) => setConnection({ targetRoot: e.target.value })}
                aria-invalid={!!err('connection.targetRoot')}
              />
            </Field>
          </Row>
          <Row>
            <Field id={`${P}-updates`} label="Changed files on the target" help={settingsHelp.inPlace}>
              <Select
                id={`${P}-updates`}
                value={s.connection.inPlaceFromMiB === null ? 'whole' : 'in-place'}
                onChange={(e) => setConnection({ inPlaceFromMiB: e.target.value === 'whole' ? null : DEFAULT_IN_PLACE_MIB })}
              >
                <option value="whole">Replace whole (readers never see a partial update)</option>
                <option value="in-place">Update big files in place</option>
              </Select>
            </Field>
            {s.connection.inPlaceFromMiB !== null && (
              <Field id={`${P}-in-place-from`} label="In place from (MiB)" error={err('connection.inPlaceFromMiB')}>
                <Input
                  id={`${P}-in-place-from`}
                  inputMode="numeric"
                  value={Number.isNaN(s.connection.inPlaceFromMiB) ? '' : String(s.connection.inPlaceFromMiB)}
                  onChange={(e) =>
                    setConnection({ inPlaceFromMiB: e.target.value.trim() === '' ? Number.NaN : Number(e.target.value) })
                  }
                  aria-invalid={!!err('connection.inPlaceFromMiB')}
                />
              </Field>
            )}
          </Row>
        </>
      )}
    </Section>
  );
}
