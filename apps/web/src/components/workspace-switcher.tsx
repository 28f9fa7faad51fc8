'use client';

import { switchWorkspace } from '@/lib/actions';

/**
 * Switching organization reloads the page fully: every cached query belongs to the old tenant.
 */
export function WorkspaceSwitcher({
  activeKey,
  workspaces,
}: {
  activeKey: string;
  workspaces: { key: string; label: string }[];
}) {
  return (
    <form
      className="flex items-center gap-1"
      onSubmit={async (e) => {
        e.preventDefault();
        await switchWorkspace(new FormData(e.currentTarget));
        window.location.assign('/');
      }}
    >
      <label htmlFor="workspace" className="sr-only">
        Organization
      </label>
      <select
        id="workspace"
        name="workspace"
        defaultValue={activeKey}
        className="max-w-56 rounded-md border border-slate-700 bg-slate-800 px-2 py-1 text-sm text-slate-100"
      >
        {workspaces.map((w) => (
          <option key={w.key} value={w.key}>
            {w.label}
          </option>
        ))}
      </select>
      <button className="rounded-md px-2 py-1 text-sm text-slate-300 hover:bg-slate-800 hover:text-white">Switch</button>
    </form>
  );
}
