import { describe, expect, it } from 'vitest';
import { calibrateBiases } from './calibrate.js';
import { LinearModel } from './linear-model.js';
import type { TrainRow } from './train-linear.js';

const row = (feature: number, y: number): TrainRow => ({
  x: { index: Int32Array.of(feature), value: Float32Array.of(1) },
  y: Int8Array.of(y, y),
  weight: 1,
});

describe('calibrateBiases', () => {
  it('raises the threshold of a head whose bias flags unfamiliar text, and leaves other heads alone', () => {
    // Head 0 and 1: feature 0 = positive evidence, features 1..40 = unseen text; bias +1.5 flags everything.
    const model = new LinearModel(64, new Float32Array(128), Float32Array.of(1.5, 1.5));
    model.weights[0] = 4;
    model.weights[1] = 4;
    const validation = [
      ...Array.from({ length: 10 }, () => row(0, 1)),
      ...Array.from({ length: 40 }, (_, i) => row(1 + i, 0)),
    ];
    const before = model.predict(validation[20]!.x)[0]!;
    expect(before).toBeGreaterThan(0.5);
    const cal = calibrateBiases(model, validation, new Map([[0, 0.01]]));
    expect(cal[0]!.threshold).toBeGreaterThan(0.5);
    expect(model.predict(validation[20]!.x)[0]!).toBeLessThan(0.5);
    expect(model.predict(validation[0]!.x)[0]!).toBeGreaterThanOrEqual(0.5);
    expect(cal[1]!.shift).toBe(0);
    expect(model.bias[1]).toBe(1.5);
  });
});
