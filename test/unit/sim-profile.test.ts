// Device profiles: the formula language, each behaviour on a FakeClock, and profile errors that
// name the path of what is wrong.
import { readFile } from 'node:fs/promises';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../core/clock-fake.ts';
import { compileExpression, ExpressionError } from '../../sim/profiles/expression.ts';
import { checkProfile, ProfileError, resolveProfile } from '../../sim/profiles/load.ts';
import { PointEngine } from '../../sim/profiles/engine.ts';
import { decodePoint, encodePoint } from '../../sim/profiles/modbus-codec.ts';
import type { ProfilePoint } from '../../sim/profiles/types.ts';
import { publishedProfileSchema } from '../../sim/profiles/schema.ts';
import { repoRoot } from '../helpers/spawn.ts';

const calc = (src: string, vars: Record<string, number> = {}) => compileExpression(src, new Set(Object.keys(vars))).run((n) => (n === 't' ? 0 : vars[n]));

describe('formula language', () => {
  test('arithmetic, precedence, functions, comparisons and ?:', () => {
    assert.equal(calc('1 + 2 * 3'), 7);
    assert.equal(calc('(1 + 2) * 3'), 9);
    assert.equal(calc('2 ^ 3 ^ 2'), 512);
    assert.equal(calc('-2 ^ 2'), 4);
    assert.equal(calc('10 % 4 - 1'), 1);
    assert.equal(calc('max(1, a, 3) + min(4, 5)', { a: 7 }), 11);
    assert.equal(calc('clamp(a, 0, 10)', { a: 42 }), 10);
    assert.equal(calc('a > 1 && b <= 2 ? 100 : 200', { a: 2, b: 2 }), 100);
    assert.equal(calc('!(a == 1) || 0', { a: 1 }), 0);
    assert.ok(Math.abs(calc('sin(pi / 2)') - 1) < 1e-12);
    assert.equal(calc('1.5e3 + .5'), 1500.5);
  });

  test('bad formulas are refused with what and where, never evaluated as code', () => {
    const bad: Array<[string, RegExp]> = [
      ['a +', /end of formula/],
      ['foo(1)', /unknown function "foo" at 1/],
      ['p_l4 * 2', /unknown name "p_l4" at 1 \(known: t, a\)/],
      ['a; process.exit(1)', /unexpected character ";" at 2/],
      ['constructor', /unknown name "constructor"/],
      ['constructor(1)', /unknown function "constructor"/],
      ['__proto__', /unknown name "__proto__"/],
      ['max()', /max\(\) takes 1..16 argument/],
      ['(a', /expected "\)" at the end/],
      ['', /empty formula/],
    ];
    for (const [src, why] of bad) assert.throws(() => compileExpression(src, new Set(['a'])), (e: Error) => e instanceof ExpressionError && why.test(e.message), src);
  });
});

function engineFor(points: unknown[], extra: Record<string, unknown> = {}) {
  const clock = new FakeClock();
  const profile = checkProfile({ name: 'test', protocol: 'modbus', tickMs: 100, points, ...extra });
  const engine = new PointEngine(profile, clock);
  engine.start();
  return { clock, engine, profile };
}

describe('behaviours on the injected clock', () => {
  test('constant holds its value and undoes writes; echo keeps writes; echo of mirrors another point', async () => {
    const { clock, engine } = engineFor([
      { name: 'k', initial: 5, behaviour: { kind: 'constant' } },
      { name: 'cmd', initial: 1 },
      { name: 'fb', behaviour: { kind: 'echo', of: 'cmd' } },
    ]);
    assert.deepEqual(engine.values(), { k: 5, cmd: 1, fb: 1 });
    engine.write('k', 9);
    engine.write('cmd', 3);
    await clock.advance(100);
    assert.deepEqual(engine.values(), { k: 5, cmd: 3, fb: 3 });
  });

  test('ramp rises at its rate and wraps (or stops) at max', async () => {
    const { clock, engine } = engineFor([
      { name: 'r', initial: 0, behaviour: { kind: 'ramp', rate: 2, min: 0, max: 10 } },
      { name: 's', initial: 0, behaviour: { kind: 'ramp', rate: 2, min: 0, max: 10, wrap: false } },
    ]);
    await clock.advance(3000);
    assert.ok(Math.abs(engine.value('r') - 6) < 1e-9);
    await clock.advance(3000); // 12 → wraps to 2
    assert.ok(Math.abs(engine.value('r') - 2) < 1e-9, String(engine.value('r')));
    assert.equal(engine.value('s'), 10);
  });

  test('sine swings around its initial value with the given period and phase', async () => {
    const { clock, engine } = engineFor([{ name: 'w', initial: 50, behaviour: { kind: 'sine', amplitude: 10, periodS: 4 } }]);
    assert.ok(Math.abs(engine.value('w') - 50) < 1e-9);
    await clock.advance(1000);
    assert.ok(Math.abs(engine.value('w') - 60) < 1e-9);
    await clock.advance(2000);
    assert.ok(Math.abs(engine.value('w') - 40) < 1e-9);
  });

  test('random walk stays in its bounds, moves, and repeats with the same seed', async () => {
    const walk = async () => {
      const { clock, engine } = engineFor([{ name: 'f', initial: 50, behaviour: { kind: 'random-walk', step: 0.05, min: 49.9, max: 50.1, seed: 42 } }]);
      const seen: number[] = [];
      for (let i = 0; i < 200; i++) {
        await clock.advance(100);
        seen.push(engine.value('f'));
      }
      return seen;
    };
    const a = await walk();
    assert.ok(a.every((v) => v >= 49.9 && v <= 50.1));
    assert.ok(new Set(a).size > 100, 'it moves');
    assert.deepEqual(await walk(), a);
  });

  test('counter integrates a formula rate (kWh from W); formula follows its inputs', async () => {
    const { clock, engine } = engineFor([
      { name: 'p', initial: 3600, behaviour: { kind: 'echo' } },
      { name: 'e', initial: 10, behaviour: { kind: 'counter', rate: 'p / 3600000' } },
      { name: 'n', initial: 0, behaviour: { kind: 'counter', rate: 1, wrapAt: 5 } },
      { name: 'twice', behaviour: { kind: 'formula', expr: 'p * 2 + t' } },
    ]);
    await clock.advance(3_600_000); // one hour at 3.6 kW
    assert.ok(Math.abs(engine.value('e') - 13.6) < 1e-6, String(engine.value('e')));
    assert.ok(engine.value('n') >= 0 && engine.value('n') < 5);
    assert.equal(engine.value('twice'), 3600 * 2 + 3600);
  });

  test('reset: back to the initial values or zero, time from 0 again', async () => {
    const { clock, engine } = engineFor([
      { name: 'm', initial: 7 },
      { name: 'c', initial: 100, behaviour: { kind: 'counter', rate: 1 } },
    ]);
    engine.write('m', 99);
    await clock.advance(10_000);
    assert.ok(Math.abs(engine.value('c') - 110) < 1e-6);
    engine.reset('initial');
    assert.deepEqual(engine.values(), { m: 7, c: 100 });
    assert.equal(engine.t, 0);
    engine.reset('zero');
    assert.deepEqual(engine.values(), { m: 0, c: 0 });
    engine.stop();
    assert.equal(clock.pendingTimers(), 0);
  });
});

describe('profile checks', () => {
  const problems = (raw: unknown) => {
    try {
      checkProfile(raw, 'test');
    } catch (err) {
      assert.ok(err instanceof ProfileError);
      return err.problems;
    }
    assert.fail('accepted');
  };

  test('schema errors name the path', () => {
    const p = problems({ name: 'm', protocol: 'modbus', points: [{ name: 'a', table: 'holding', address: 0, type: 'float64' }, { name: 'b', behaviour: { kind: 'sine', amplitude: 1 } }] });
    assert.ok(p.some((l) => /^points\[0\]\.type: must be equal to one of the allowed values: bool, int16/.test(l)), p.join('\n'));
    assert.ok(p.some((l) => /^points\[1\]\.behaviour: must have required property 'periodS'/.test(l)), p.join('\n'));
  });

  test('what the schema cannot say: overlaps, table sizes, types per table, formulas, duplicate names', () => {
    const p = problems({
      name: 'm', protocol: 'modbus', modbus: { sizes: { holding: 10 } },
      points: [
        { name: 'a', table: 'holding', address: 0, type: 'float32' },
        { name: 'b', table: 'holding', address: 1 },
        { name: 'c', table: 'holding', address: 9, type: 'uint32' },
        { name: 'd', table: 'coil', address: 0, type: 'int16' },
        { name: 'a', behaviour: { kind: 'formula', expr: 'a + zz' } },
        { name: 'e', behaviour: { kind: 'echo', of: 'nope' } },
        { name: 'f', table: 'input' },
      ],
    });
    assert.deepEqual(p, [
      'points[1].address: holding 1 is already used by points[0] (a)',
      'points[2].address: 9..10 is outside the holding table (size 10, see modbus.sizes)',
      'points[3].type: coil points are bool',
      'points[4].name: "a" is already used',
      'points[6]: a Modbus point needs both table and address (or neither, for an internal point)',
      'points[4].behaviour.expr: unknown name "zz" at 5 (known: t, a, b, c, d, e, f)',
      'points[5].behaviour.of: no point "nope"',
    ]);
  });

  test('schema/sim-profile.schema.json (editor completion) is current', async () => {
    const committed = await readFile(`${repoRoot}/schema/sim-profile.schema.json`, 'utf8');
    assert.equal(committed, JSON.stringify(publishedProfileSchema(), null, 2) + '\n', 'stale: run node --import tsx scripts/build-profile-schema.ts');
  });

  test('a profile file that is missing, not JSON or of another protocol is refused naming it', async () => {
    await assert.rejects(resolveProfile('./no/such.profile.json'), /no[/\\]such\.profile\.json is invalid:\n {2}cannot read the file/);
    await assert.rejects(resolveProfile('nosuch'), /no built-in profile "nosuch" \(built-in: nj301, esp32-lab/);
    await assert.rejects(resolveProfile('nj301', { protocol: 'http' }), /protocol: is "modbus" but this adapter speaks http/);
    const meter = await resolveProfile('manifests/energy-meter.profile.json', { protocol: 'modbus' });
    assert.equal(meter.name, 'energy-meter');
  });
});

describe('Modbus words', () => {
  test('float32 in both word orders, scaled and signed integers, clamped to their range', () => {
    const pt = (over: Partial<ProfilePoint>): ProfilePoint => ({ name: 'x', initial: 0, behaviour: { kind: 'echo' }, table: 'holding', address: 0, ...over });
    assert.deepEqual(encodePoint(pt({ type: 'float32' }), 230), [0x4366, 0x0000]);
    assert.deepEqual(encodePoint(pt({ type: 'float32', wordOrder: 'little' }), 230), [0x0000, 0x4366]);
    assert.equal(decodePoint(pt({ type: 'float32', wordOrder: 'little' }), [0x0000, 0x4366]), 230);
    assert.deepEqual(encodePoint(pt({ type: 'int16', scale: 0.1 }), -1.5), [0xfff1]);
    assert.equal(decodePoint(pt({ type: 'int16', scale: 0.1 }), [0xfff1]), -1.5);
    assert.deepEqual(encodePoint(pt({ type: 'uint16' }), 70000), [65535]);
    assert.deepEqual(encodePoint(pt({ type: 'uint32' }), 65536 + 2), [1, 2]);
    assert.equal(decodePoint(pt({ type: 'int32' }), [0xffff, 0xfffe]), -2);
  });
});
