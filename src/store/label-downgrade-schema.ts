/** A trusted-downgrade request (src/runtime/label-downgrade.ts): one object, one lower label, two people. */
export interface LabelDowngradeTable {
  id: string;
  tenant_id: string;
  /** `response`, `conversation` or `item`. */
  object_kind: string;
  object_id: string;
  from_label_id: string;
  to_label_id: string;
  /** Principal subject of the requester (and the user an agent acted for, if any): never the reviewer. */
  requester: string;
  requester_on_behalf_of: string | null;
  /** Why the data may go lower: a reviewer reads it; it is labelled like the object (`from_label_id`). */
  reason: string;
  status: string;
  reviewer: string | null;
  created_at: number;
  decided_at: number | null;
}
