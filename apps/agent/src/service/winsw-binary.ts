// WinSW 1.17 (MIT; the build node-windows 0.1.14 ships), embedded in the agent bundle by
// esbuild's binary loader so that a Windows server needs only tandem-agent.mjs. See
// apps/agent/vendor/winsw/README.md.
import winsw from '../../vendor/winsw/winsw.exe';

export default winsw;
