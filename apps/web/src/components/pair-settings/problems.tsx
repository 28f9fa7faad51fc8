'use client';

import { nameOfField, type FieldMessages } from './validation';

/** "These settings need attention" above Next/Save, naming each field with its message. */
export function SettingsProblems({ errors }: { errors: FieldMessages }) {
  const entries = Object.entries(errors);
  if (entries.length === 0) return null;
  return (
    <div
      role="alert"
      data-testid="settings-problems"
      className="mb-2 rounded-md border border-red-300 bg-red-50 px-3 py-2 text-sm text-red-800 dark:border-red-800 dark:bg-red-950 dark:text-red-200"
    >
      <p className="font-medium">Some settings need attention; nothing was saved:</p>
      <ul className="mt-1 list-disc pl-5">
        {entries.map(([path, message]) => (
          <li key={path}>
            {nameOfField(path)}: {message}
          </li>
        ))}
      </ul>
    </div>
  );
}
