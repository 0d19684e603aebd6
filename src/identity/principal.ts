export const roles = ['user', 'admin', 'auditor', 'reviewer'] as const;
export type Role = (typeof roles)[number];

export const isRole = (value: string): value is Role => (roles as readonly string[]).includes(value);

/**
 * Who is calling, as established by authentication only. Clearance and authorizations come from the key
 * record or the admin's OIDC claim mapping — never from a request body, a prompt or a model output.
 */
export interface Principal {
  tenantId: string;
  /** API key id or OIDC subject. */
  subject: string;
  role: Role;
  /** Canonical clearance label. */
  clearance: string;
  authorizations: readonly string[];
  /**
   * Canonical label a request without `Enclave-Classification` takes (admin-set with the key; dominated by the
   * clearance). Absent: the clearance itself (system-high). Never carried over to an agent acting for a user.
   */
  defaultLabel?: string;
  via: 'api_key' | 'oidc';
  /**
   * Set when an agent acts for a user (`Enclave-On-Behalf-Of`, see on-behalf-of.ts): the user's subject
   * (`key:<id>` or `oidc:<sub>`). `clearance` and `authorizations` are then already the intersection of both.
   */
  onBehalfOf?: string;
}
