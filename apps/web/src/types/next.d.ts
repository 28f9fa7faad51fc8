// What the generated next-env.d.ts provides (Next's global types and image imports), tracked here
// so a type check on a fresh clone, before any Next.js build, sees them too. next-env.d.ts itself
// is rewritten by every build (it names the build's directory), so it is not tracked.
/// <reference types="next" />
/// <reference types="next/image-types/global" />
