/**
 * Live cross-check of the license table against Python's own metadata reader (extended suite,
 * `npm run test:real`): every distribution in Debian's /usr/lib/python3/dist-packages, read by
 * importlib.metadata (the email parser pip-licenses uses), must give the same Name, Version, License,
 * License-Expression and license classifiers as ModelVet's header parser; numpy, scikit-learn and torch
 * must come out as their METADATA says (BSD-3-Clause).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readInstalledLicenses } from '../../core/licenses/installed';
import { runPythonOk } from '../helpers/python';

const SITE = '/usr/lib/python3/dist-packages';

const SCRIPT = `
import json, os, sys
from importlib import metadata
out = {}
for d in metadata.distributions(path=[sys.argv[1]]):
    m = d.metadata
    name = m["Name"]
    if name is None or name in out:
        continue
    out[name] = {"version": m["Version"], "license": m.get("License"), "license_expression": m.get("License-Expression"),
                 "classifiers": [c for c in (m.get_all("Classifier") or []) if c.startswith("License ::")]}
print(json.dumps(out))
`;

test('every Debian dist-packages distribution: our METADATA fields equal importlib.metadata\'s', () => {
  const live = JSON.parse(runPythonOk(['-c', SCRIPT, SITE], { modules: ['numpy', 'sklearn', 'torch'] })) as Record<string, { version: string; license: string | null; license_expression: string | null; classifiers: string[] }>;
  const ours = new Map(readInstalledLicenses([SITE]).distributions.map((d) => [d.name, d]));
  assert.ok(Object.keys(live).length >= 20, 'a real environment');
  for (const [name, e] of Object.entries(live)) {
    const d = ours.get(name);
    assert.ok(d, `${name} found`);
    assert.equal(d.version, e.version, name);
    assert.equal(d.fields.license ?? null, e.license, `${name} License`);
    assert.equal(d.fields.licenseExpression ?? null, e.license_expression, `${name} License-Expression`);
    assert.deepEqual(d.fields.classifiers, e.classifiers, `${name} classifiers`);
  }
  for (const n of ['numpy', 'scikit-learn', 'torch']) assert.equal(ours.get(n)?.license.spdx, 'BSD-3-Clause', n);
});
