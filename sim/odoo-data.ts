// Manufacturing orders of a simulated feed mill for the Odoo simulator: the realistic cases the
// sync must cope with (empty fields as `false`, odd silo codes, bad quantities), plus their ORM rows.
import type { OdooComponentRaw, OdooEquipmentRaw, OdooMoRaw } from '../adapters/odoo/types.ts';

/** An MO as the simulator stores it: the custom endpoint's shape plus the ORM id. */
export interface SimMo {
  id: number;
  mo: OdooMoRaw;
}

export function equipment(id: number, code: string | false, name: string | false, type: string | false = 'silo'): OdooEquipmentRaw {
  return {
    id, code, name, equipment_type: type, manufacturer: false, model_number: false, serial_number: false,
    ip_address: false, port: false, protocol: false, is_active: true, connection_status: 'disconnected',
    sync_status: 'pending', last_connected: false,
  };
}

const SILO_LETTERS = 'ABCDEFGHIJKLM';
/** The plain silos 101..113, code `silo1xx`, name `SILO A`..`SILO M`. */
export const silo = (n: number): OdooEquipmentRaw => equipment(n, `silo${n}`, `SILO ${SILO_LETTERS[n - 101] ?? '?'}`);
export const MIXER = equipment(1, 'PLC01', 'Mixer Line 1 (Omron CJ2M)', 'plc');

const MATERIALS: Array<[number, string]> = [
  [201, 'Jagung Giling (ground corn)'], [202, 'Bungkil Kedelai (soybean meal)'], [203, 'Dedak Padi (rice bran)'],
  [204, 'Tepung Ikan (fish meal)'], [205, 'MBM (meat bone meal)'], [206, 'CGM (corn gluten meal)'],
  [207, 'DDGS'], [208, 'Tepung Batu (limestone)'], [209, 'DCP (dicalcium phosphate)'], [210, 'Garam (salt)'],
  [211, 'Premix Layer'], [212, 'Lisin HCl'], [213, 'DL-Methionine'], [214, 'Tetes Tebu (molasses)'], [215, 'CPO (palm oil)'],
];

export function component(productId: number, toConsume: OdooComponentRaw['to_consume'], eq: OdooComponentRaw['equipment'], extra: Partial<OdooComponentRaw> = {}): OdooComponentRaw {
  const name = MATERIALS.find(([id]) => id === productId)?.[1] ?? `Material ${productId}`;
  return { product_tmpl_id: productId + 1000, product_id: productId, product_name: name, to_consume: toConsume, reserved: 0, consumed: 0, uom: 'kg', equipment: eq, ...extra };
}

export interface MoSpec {
  name: string;
  state: string;
  start: string | false;
  end?: string | false;
  reference?: string | false;
  product: string;
  quantity: number | string;
  bomCode?: string | false;
  components: OdooComponentRaw[];
  equipment?: OdooEquipmentRaw | false;
}

export function makeMo(id: number, spec: MoSpec): SimMo {
  const bomComponents = spec.components.map((c) => ({
    product_tmpl_id: c.product_tmpl_id ?? false, product_id: c.product_id, product_name: c.product_name, quantity: c.to_consume, uom: c.uom,
  }));
  return {
    id,
    mo: {
      mo_id: spec.name,
      reference: spec.reference ?? false,
      state: spec.state,
      schedule_start: spec.start,
      schedule_end: spec.end ?? false,
      equipment: spec.equipment ?? MIXER,
      product_tmpl_id: 3000 + id,
      product_id: 4000 + id,
      product_name: spec.product,
      quantity: spec.quantity,
      produced_qty: 0,
      uom: 'kg',
      bom_id: spec.bomCode === false ? false : 500 + id,
      bom_code: spec.bomCode ?? `BOM-${spec.product.split(' ')[0]}`,
      bom_components: bomComponents,
      components_consumption: spec.components,
    },
  };
}

/**
 * The realistic set (ids 1..7), then `count - 5` plain generated open MOs. Open = confirmed,
 * progress, to_close; ids 6 (draft) and 7 (done) must never be fetched.
 */
export function defaultMos(count = 5): SimMo[] {
  const mos = [
    // Odd but valid codes: `SILO C` is found by its name, `silo 111` has a space; one line was
    // already weighed (to_consume 0, consumed set): the quantity falls back to `consumed`.
    makeMo(1, {
      name: 'WH/MO/00001', state: 'confirmed', start: '2025-03-03T07:00:00', end: '2025-03-03T09:00:00', reference: 'SO/2025/0042',
      product: 'Pakan Ayam Petelur 511 (layer feed)', quantity: 1000, bomCode: 'BOM-L511',
      components: [
        component(201, 500, silo(101)),
        component(202, 220, equipment(103, 'SILO C', 'Silo 103 Bungkil Kedelai')),
        component(203, 0, equipment(111, 'silo 111', 'Silo Dedak'), { consumed: 80, reserved: 80 }),
        component(208, 85.5, silo(108)),
        component(211, 5, silo(113)),
      ],
    }),
    // Empty Odoo fields as `false`; a component in the raw-material warehouse (no silo number)
    // and one without any equipment; a liquid tank (114).
    makeMo(2, {
      name: 'WH/MO/00002', state: 'progress', start: '2025-03-03T07:00:00', end: false, reference: false,
      product: 'Pakan Broiler Starter BR1', quantity: 2000, bomCode: false,
      components: [
        component(201, 1100, silo(101)),
        component(204, 150, silo(104)),
        component(209, 30, equipment(90, 'WH-STOCK', 'Gudang Bahan Baku', 'warehouse')),
        component(212, 4.2, false),
        component(214, 40, equipment(114, 'LQ114', 'Tangki Tetes 114', 'tank')),
      ],
    }),
    // Bad data: a quantity that is not a number, an unknown silo number (120).
    makeMo(3, {
      name: 'WH/MO/00003', state: 'to_close', start: '2025-03-04T06:30:00', end: '2025-03-04T08:00:00', reference: 'SO/2025/0047',
      product: 'Konsentrat Sapi Perah', quantity: 750, bomCode: 'BOM-KSP',
      components: [
        component(203, '12,5 kg', silo(105)),
        component(207, 300, silo(107)),
        component(210, 7.5, equipment(120, 'silo120', 'Silo 120 (not wired)')),
        component(215, 12, equipment(115, 'lq115', 'Tangki FML 115', 'tank')),
      ],
    }),
    makeMo(4, {
      name: 'WH/MO/00004', state: 'confirmed', start: false, product: 'Pakan Itik Petelur', quantity: 500, bomCode: 'BOM-IP',
      components: [component(201, 250, silo(102)), component(206, 60, silo(106)), component(213, 1.25, silo(112))],
    }),
    makeMo(5, {
      name: 'WH/MO/00005', state: 'confirmed', start: '2025-03-05T07:00:00', product: 'Pakan Babi Grower', quantity: 1200,
      components: [component(201, 600, silo(109)), component(202, 300, silo(110)), component(205, 90, silo(104))],
    }),
    makeMo(6, {
      name: 'WH/MO/00006', state: 'draft', start: '2025-03-01T07:00:00', product: 'Pakan Ayam Petelur 511 (layer feed)', quantity: 1000,
      components: [component(201, 500, silo(101))],
    }),
    makeMo(7, {
      name: 'WH/MO/00007', state: 'done', start: '2025-03-01T06:00:00', product: 'Pakan Broiler Starter BR1', quantity: 2000,
      components: [component(201, 0, silo(101), { consumed: 1100 })],
    }),
  ];
  for (let i = 0; i < count - 5; i++) {
    const id = 8 + i;
    const day = String(6 + Math.floor(i / 4)).padStart(2, '0');
    const hour = String(6 + (i % 4) * 3).padStart(2, '0');
    mos.push(makeMo(id, {
      name: `WH/MO/${String(id).padStart(5, '0')}`, state: 'confirmed', start: `2025-03-${day}T${hour}:00:00`,
      product: 'Pakan Ayam Petelur 511 (layer feed)', quantity: 1000, bomCode: 'BOM-L511',
      components: [component(201, 500, silo(101 + (i % 13))), component(202, 200, silo(101 + ((i + 5) % 13)))],
    }));
  }
  return mos;
}

// --- ORM rows (what search_read sees), derived from the MOs ---

const m2o = (id: unknown, name: unknown): [number, string] | false => (typeof id === 'number' && typeof name === 'string' ? [id, name] : false);
const ormDate = (iso: string | false | null): string | false => (iso ? iso.replace('T', ' ').slice(0, 19) : false);

export function productionRow(sim: SimMo): Record<string, unknown> {
  const mo = sim.mo;
  return {
    id: sim.id,
    name: mo.mo_id,
    origin: mo.reference || false,
    state: mo.state,
    date_planned_start: ormDate(mo.schedule_start),
    date_planned_finished: ormDate(mo.schedule_end),
    product_id: m2o(mo.product_id, mo.product_name),
    product_qty: mo.quantity,
    qty_produced: mo.produced_qty || 0,
    product_uom_id: m2o(1, mo.uom || 'kg'),
    bom_id: m2o(mo.bom_id, `${mo.bom_code || 'BOM'}: ${mo.product_name || ''}`),
    move_raw_ids: mo.components_consumption.map((_, i) => sim.id * 100 + i),
  };
}

export function moveRows(sim: SimMo): Array<Record<string, unknown>> {
  return sim.mo.components_consumption.map((c, i) => ({
    id: sim.id * 100 + i,
    raw_material_production_id: [sim.id, sim.mo.mo_id],
    product_id: m2o(c.product_id, c.product_name),
    product_uom_qty: typeof c.to_consume === 'number' ? c.to_consume : 0,
    quantity_done: typeof c.consumed === 'number' ? c.consumed : 0,
    reserved_availability: typeof c.reserved === 'number' ? c.reserved : 0,
    product_uom: m2o(1, c.uom || 'kg'),
    state: sim.mo.state === 'done' ? 'done' : 'confirmed',
  }));
}
