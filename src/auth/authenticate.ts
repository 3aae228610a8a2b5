import type { TokenVerifier } from './verifier.ts';
import { DomainError } from '../domain/errors.ts';
import type { Principal } from '../domain/principal.ts';

/** The outcome of checking an optional token: a principal, a refusal, or neither. */
export interface Authentication {
  principal: Principal | null;
  authError: DomainError | null;
}

/** Verifies `token` if there is one; refusals are kept, not thrown, so public fields still work. */
export async function authenticate(verifier: TokenVerifier, token: string | null): Promise<Authentication> {
  if (!token) return { principal: null, authError: null };
  try {
    return { principal: await verifier.verify(token), authError: null };
  } catch (error) {
    if (error instanceof DomainError) return { principal: null, authError: error };
    throw error;
  }
}
