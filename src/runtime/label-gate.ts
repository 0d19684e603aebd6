import { EnclaveError, isEnclaveError } from '../errors/index.js';
import type { Principal } from '../identity/principal.js';
import { lub, renderBanner, type Label } from '../labels/index.js';
import { itemFromInput, type InputItem, type NewItem } from './items.js';
import { parseClientLabel, type LabelAccess } from './label-access.js';

/**
 * The request side of mandatory access control:
 * - the request label comes from `Enclave-Classification: <banner>`; without it, the principal's configured
 *   default label (admin-set with the key), else its clearance (system-high: unlabelled data is treated as the
 *   most sensitive thing this caller could have sent) — never "none";
 * - each item may carry its own `label` (banner or portion); without one it takes the request label;
 * - every one of them must be readable under the principal's clearance, else 403 label_denied.
 */
export async function requestLabel(
  labels: LabelAccess,
  principal: Principal,
  header: string | undefined,
): Promise<Label> {
  const label =
    header === undefined || header.trim() === ''
      ? labels.defaultLabel(principal)
      : parseLabel(header, 'Enclave-Classification');
  await labels.requireReadable(principal, label, 'The request (Enclave-Classification)');
  return label;
}

export interface LabelledItems {
  items: NewItem[];
  /** lub of the request label and every item label. */
  label: Label;
}

/** Labels each input item, registers the labels, and returns storable items. */
export async function labelInputs(
  labels: LabelAccess,
  principal: Principal,
  request: Label,
  inputs: readonly InputItem[],
  param = 'input',
): Promise<LabelledItems> {
  let total = request;
  const items: NewItem[] = [];
  for (const [index, input] of inputs.entries()) {
    const label = input.label === undefined ? request : parseLabel(input.label, `${param}[${index}].label`);
    await labels.requireReadable(principal, label, `${param}[${index}]`);
    total = lub(total, label);
    items.push(itemFromInput(input, await labels.ensure(label)));
  }
  return { items, label: total };
}

export const banner = (label: Label): string => renderBanner(label);

function parseLabel(text: string, param: string): Label {
  try {
    return parseClientLabel(text);
  } catch (error) {
    if (isEnclaveError(error)) throw new EnclaveError(error.code, `${param}: ${error.message}`, { param });
    throw error;
  }
}
