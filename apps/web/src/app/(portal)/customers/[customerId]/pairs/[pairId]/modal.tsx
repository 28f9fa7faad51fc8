'use client';

// A modal on the native <dialog> element: focus is trapped and Escape closes it, and it is a
// labelled dialog for screen readers (and for browser tests finding it by role and name). Centred,
// or as a drawer along the right edge (a validation finding's details).
import { useEffect, useId, useRef, type ReactNode } from 'react';

export function Modal({
  title,
  onClose,
  children,
  drawer = false,
}: {
  title: string;
  onClose: () => void;
  children: ReactNode;
  drawer?: boolean;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const headingId = useId();
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
    return () => d?.close();
  }, []);
  const place = drawer ? 'ml-auto mr-0 my-0 h-full max-h-full w-[min(40rem,100vw)]' : 'm-auto w-[min(56rem,calc(100vw-2rem))]';
  return (
    <dialog
      ref={ref}
      aria-labelledby={headingId}
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
      className={`${place} rounded-lg border border-slate-200 bg-white p-0 text-slate-900 shadow-xl backdrop:bg-slate-900/50 dark:border-slate-700 dark:bg-slate-900 dark:text-slate-100`}
    >
      <div className="flex items-center justify-between border-b border-slate-200 px-4 py-3 dark:border-slate-800">
        <h2 id={headingId} className="text-lg font-semibold">
          {title}
        </h2>
        <button
          type="button"
          aria-label="Close"
          onClick={onClose}
          className="rounded px-2 py-1 text-slate-500 hover:bg-slate-100 dark:hover:bg-slate-800"
        >
          ✕
        </button>
      </div>
      <div className={`${drawer ? 'h-[calc(100%-3.5rem)]' : 'max-h-[75vh]'} overflow-y-auto px-4 py-3`}>{children}</div>
    </dialog>
  );
}
