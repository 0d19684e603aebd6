/** Table type of wrapped data keys (migration 0003-data-keys); see src/crypto for the key hierarchy. */
export interface DataKeyTable {
  /** `dk_<hex>`; recorded in every ciphertext sealed under this key. */
  id: string;
  tenant_id: string;
  /** Crypto-shredding unit, e.g. `user:<id>`, `conversation:<id>`, `tenant`. */
  scope: string;
  /**
   * The key-encryption-key version that was current when this key was made. Immutable: it is part of
   * the AAD of every ciphertext under the key, and lets a scope get a fresh key after each rotation.
   */
  generation: number;
  /** The KEK version that wraps `wrapped` now; rewrap raises it without touching any content. */
  kek_version: number;
  /** Name of the key provider that wrapped it (`local`, `aws-kms`). */
  provider: string;
  /** The data key encrypted by the provider (base64url); the plaintext key is never stored. */
  wrapped: string;
  created_at: number;
  rewrapped_at: number | null;
}
