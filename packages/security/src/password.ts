import bcrypt from 'bcryptjs';

// bcrypt cost 12 in production; test runs lower it through the environment to stay quick.
function cost(): number {
  const fromEnv = Number(process.env.TANDEM_BCRYPT_COST);
  return Number.isInteger(fromEnv) && fromEnv >= 4 && fromEnv <= 15 ? fromEnv : 12;
}

export function hashPassword(password: string): Promise<string> {
  return bcrypt.hash(password, cost());
}

export function verifyPassword(password: string, hash: string): Promise<boolean> {
  return bcrypt.compare(password, hash);
}

let dummyHash: Promise<string> | undefined;
/** Spends the same time as a real check when no user exists, so timing does not reveal accounts. */
export async function verifyAgainstNobody(password: string): Promise<false> {
  dummyHash ??= bcrypt.hash(`nobody-${Math.random()}`, cost());
  await bcrypt.compare(password, await dummyHash);
  return false;
}
