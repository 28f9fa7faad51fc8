import { env } from '@/env';
import { createContext } from '@/server/context';
import { handleTrpcRequest } from '@/server/http';

function handler(req: Request) {
  return handleTrpcRequest(req, () => createContext(req), env().TANDEM_PUBLIC_URL);
}

export { handler as GET, handler as POST };
