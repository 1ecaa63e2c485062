// Callendar–Van Dusen equation for platinum RTDs (IEC 60751, α = 0.00385): resistance from
// temperature (used by the simulator) and its inverse (used by the driver), valid -200..850 °C.

export const CVD_A = 3.9083e-3;
export const CVD_B = -5.775e-7;
/** Applies below 0 °C only. */
export const CVD_C = -4.183e-12;

/** Resistance (Ω) of an RTD with nominal `r0` (100 for PT100, 1000 for PT1000) at `t` °C. */
export function rtdResistance(t: number, r0: number): number {
  const c = t < 0 ? CVD_C : 0;
  return r0 * (1 + CVD_A * t + CVD_B * t * t + c * (t - 100) * t * t * t);
}

/**
 * Temperature (°C) of an RTD with nominal `r0` measuring `r` Ω. At or above 0 °C the quadratic has
 * a closed form; below, the C term makes it quartic, so Newton's method starts from the quadratic
 * root (already within ~0.3 °C at -200 °C) and converges in a few steps to far below 0.001 °C.
 */
export function rtdTemperature(r: number, r0: number): number {
  const ratio = r / r0;
  const quadratic = (-CVD_A + Math.sqrt(CVD_A * CVD_A - 4 * CVD_B * (1 - ratio))) / (2 * CVD_B);
  if (ratio >= 1) return quadratic;
  let t = Number.isFinite(quadratic) ? quadratic : (ratio - 1) / CVD_A;
  for (let i = 0; i < 20; i++) {
    const f = rtdResistance(t, r0) - r;
    const slope = r0 * (CVD_A + 2 * CVD_B * t + CVD_C * (4 * t * t * t - 300 * t * t));
    const step = f / slope;
    t -= step;
    if (Math.abs(step) < 1e-9) break;
  }
  return t;
}
