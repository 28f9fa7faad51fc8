// Preload for Prisma CLI runs: timers of 5 s or more never keep the process alive.
const original = global.setTimeout;
global.setTimeout = function patchedSetTimeout(fn, ms, ...args) {
  const t = original(fn, ms, ...args);
  if (typeof ms === 'number' && ms >= 5000 && t && typeof t.unref === 'function') t.unref();
  return t;
};
const originalInterval = global.setInterval;
global.setInterval = function patchedSetInterval(fn, ms, ...args) {
  const t = originalInterval(fn, ms, ...args);
  if (typeof ms === 'number' && ms >= 5000 && t && typeof t.unref === 'function') t.unref();
  return t;
};
