/**
 * CycloneDX XML output (`modelvet bom --format xml`): the library's own XML normalizer and its
 * xmlbuilder2 stringifier, plus the `modelCard` element, which the library does not model. The
 * model card is written from the same object as in the JSON BOM, in the element order of the
 * CycloneDX 1.5/1.6 XSD (`modelCardType`), into the component with the matching `bom-ref`.
 */
import type { Bom } from '@cyclonedx/cyclonedx-library/Models';
import { XML as CdxXml, XmlSerializer } from '@cyclonedx/cyclonedx-library/Serialize';
import type { Spec1dot5 } from '@cyclonedx/cyclonedx-library/Spec';
type Element = CdxXml.Types.SimpleXml.Element;
type Comment = CdxXml.Types.SimpleXml.Comment;

function text(name: string, value: unknown): Element | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  return { type: 'element', name, children: String(value) };
}

function el(name: string, children: Array<Element | undefined>, attributes?: Record<string, string>): Element | undefined {
  const kids = children.filter((c): c is Element => !!c);
  if (!kids.length && !attributes) return undefined;
  return { type: 'element', name, ...(attributes ? { attributes } : {}), children: kids };
}

const list = (v: unknown): any[] => (Array.isArray(v) ? v : []);

/** The JSON `modelCard` object (see modelCardJson in ./index) as a `modelCard` element, XSD order. */
export function modelCardXml(card: Record<string, any>): Element | undefined {
  const mp = card.modelParameters ?? {};
  const qa = card.quantitativeAnalysis ?? {};
  const cons = card.considerations ?? {};
  return el('modelCard', [
    el('modelParameters', [
      mp.approach?.type ? el('approach', [text('type', mp.approach.type)]) : undefined,
      text('task', mp.task),
      text('architectureFamily', mp.architectureFamily),
      text('modelArchitecture', mp.modelArchitecture),
      el('datasets', list(mp.datasets).map((d) => text('ref', d?.ref))),
    ]),
    el('quantitativeAnalysis', [
      el('performanceMetrics', list(qa.performanceMetrics).map((m) => el('performanceMetric', [text('type', m?.type), text('value', m?.value), text('slice', m?.slice)]))),
    ]),
    el('considerations', [
      el('users', list(cons.users).map((u) => text('user', u))),
      el('useCases', list(cons.useCases).map((u) => text('useCase', u))),
      el('technicalLimitations', list(cons.technicalLimitations).map((u) => text('technicalLimitation', u))),
      el('performanceTradeoffs', list(cons.performanceTradeoffs).map((u) => text('performanceTradeoff', u))),
      el('ethicalConsiderations', list(cons.ethicalConsiderations).map((e) => el('ethicalConsideration', [text('name', e?.name), text('mitigationStrategy', e?.mitigationStrategy)]))),
    ]),
    el('properties', list(card.properties).map((p) => (p?.name ? { type: 'element', name: 'property', attributes: { name: String(p.name) }, children: String(p.value ?? '') } : undefined))),
  ]);
}

/** A JSON `data` object (componentData) as a `data` element, in the XSD's order (type, name, contents, …, description). */
function dataXml(d: Record<string, any>): Element {
  const props = (v: unknown) => el('properties', list(v).map((p) => (p?.name ? { type: 'element', name: 'property', attributes: { name: String(p.name) }, children: String(p.value ?? '') } as Element : undefined)));
  return el('data', [
    text('type', d.type),
    text('name', d.name),
    d.contents ? el('contents', [text('url', d.contents.url), props(d.contents.properties)]) : undefined,
    text('description', d.description),
  ])!;
}

/** Component elements that may follow `modelCard` / `data` in the XSD sequence (they go before them). */
const AFTER_MODEL_CARD = new Set(['data', 'cryptoProperties', 'tags', 'signature']);
const AFTER_DATA = new Set(['cryptoProperties', 'tags', 'signature']);

function insertBefore(arr: Array<Element | Comment>, e: Element, after: Set<string>): void {
  const at = arr.findIndex((c) => c.type === 'element' && after.has(c.name));
  arr.splice(at < 0 ? arr.length : at, 0, e);
}

function injectCards(node: Element, cards: Map<string, Element>, data: Map<string, Element>): void {
  const kids = node.children;
  if (!kids || typeof kids === 'string' || typeof kids === 'number') return;
  const arr = [...kids] as Array<Element | Comment>;
  if (node.name === 'component') {
    const ref = node.attributes?.['bom-ref'];
    const card = ref !== undefined ? cards.get(String(ref)) : undefined;
    if (card) insertBefore(arr, card, AFTER_MODEL_CARD);
    const d = ref !== undefined ? data.get(String(ref)) : undefined;
    if (d) insertBefore(arr, d, AFTER_DATA);
  }
  for (const c of arr) if (c.type === 'element') injectCards(c, cards, data);
  node.children = arr;
}

class ModelCardXmlSerializer extends XmlSerializer {
  constructor(factory: CdxXml.Normalize.Factory, private readonly cards: Map<string, Element>, private readonly data: Map<string, Element>) { super(factory); }
  protected override _normalize(bom: Bom, options?: Parameters<XmlSerializer['serialize']>[1]): Element {
    const root = super._normalize(bom, options);
    injectCards(root, this.cards, this.data);
    return root;
  }
}

/** The BOM as CycloneDX XML (2-space indent, sorted lists) with each model's card and each dataset's `data`. */
export function serializeXml(bom: Bom, spec: typeof Spec1dot5, cards: Map<string, Record<string, any>>, datasets: Map<string, string | Record<string, any>> = new Map()): string {
  const elements = new Map<string, Element>();
  for (const [ref, card] of cards) { const e = modelCardXml(card); if (e) elements.set(ref, e); }
  const data = new Map<string, Element>();
  for (const [ref, d] of datasets) data.set(ref, dataXml(typeof d === 'string' ? { type: 'dataset', name: d } : d));
  const s = new ModelCardXmlSerializer(new CdxXml.Normalize.Factory(spec), elements, data);
  return s.serialize(bom, { sortLists: true, space: 2 }) + '\n';
}
