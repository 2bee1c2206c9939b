// Gadget names from public 2024–2025 picklescan / modelscan / fickling advisories (and the same tricks through
// other names): each must be classified DANGEROUS (PKL001, verdict malicious), not merely unknown (suspicious) —
// and never allowed by a library family rule. (builtins.getattr, functools.partial, copyreg._reconstructor are
// conditional: judged per call by the context rules, see blindspots/gadgets.) Fixtures for most of them: test/fixtures/scanner/bypass/gadget_*.pkl.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyGlobal } from '../../../core/scan/policy';

const GADGETS: Array<[string, string]> = [
  ['os', 'system'], ['posix', 'system'], ['nt', 'system'], ['subprocess', 'Popen'], ['subprocess', 'getoutput'], ['pty', 'spawn'],
  ['builtins', 'eval'], ['builtins', 'exec'], ['builtins', '__import__'], ['builtins', 'breakpoint'],
  ['runpy', '_run_code'], ['code', 'InteractiveInterpreter.runcode'], ['cProfile', 'runctx'], ['profile', 'Profile.runctx'], ['trace', 'Trace.runctx'],
  ['timeit', 'timeit'], ['timeit', 'repeat'], ['pdb', 'run'], ['bdb', 'Bdb.run'], ['doctest', 'debug_script'], ['test.support.script_helper', 'assert_python_ok'],
  ['pip', 'main'], ['pip._internal.cli.main', 'main'], ['ensurepip', '_run_pip'], ['ensurepip', 'bootstrap'], ['venv', 'create'], ['venv', 'EnvBuilder'],
  ['distutils.spawn', 'spawn'], ['distutils.file_util', 'write_file'], ['setuptools.sandbox', 'run_setup'], ['lib2to3.main', 'main'],
  ['lib2to3.pgen2.grammar', 'Grammar.loads'], ['lib2to3.pgen2.pgen', 'ParserGenerator.make_label'], ['idlelib.calltip', 'get_entity'],
  ['idlelib.autocomplete', 'AutoComplete.fetch_completions'], ['idlelib.debugobj', 'ObjectTreeItem.SetText'], ['idlelib.run', 'Executive.runcode'],
  ['asyncio.unix_events', '_UnixSubprocessTransport._start'], ['_io', 'FileIO'], ['io', 'open'], ['builtins', 'open'], ['codecs', 'open'],
  ['uuid', '_get_command_stdout'], ['_osx_support', '_read_output'], ['pydoc', 'pipepager'], ['pydoc', 'locate'], ['webbrowser', 'open'],
  ['pkgutil', 'resolve_name'], ['importlib', 'import_module'], ['zipimport', 'zipimporter'], ['unittest.mock', '_importer'],
  ['operator', 'attrgetter'], ['operator', 'methodcaller'], ['_operator', 'attrgetter'], ['_operator', 'methodcaller'], ['_operator', 'itemgetter'],
  ['functools', 'reduce'], ['_functools', 'reduce'], ['copyreg', 'add_extension'], ['ctypes', 'CDLL'], ['_ctypes', 'dlopen'], ['marshal', 'loads'],
  ['pickle', 'loads'], ['_pickle', 'loads'], ['dill._dill', '_create_code'], ['shutil', 'rmtree'], ['tempfile', 'mkstemp'], ['socket', 'create_connection'],
  ['ssl', 'get_server_certificate'], ['urllib.request', 'urlopen'], ['http.client', 'HTTPConnection'], ['smtplib', 'SMTP'], ['ftplib', 'FTP'],
  ['numpy.testing._private.utils', 'runstring'], ['numpy.f2py.crackfortran', 'getlincoef'], ['numpy', 'load'], ['pandas', 'read_pickle'], ['pandas', 'eval'],
  ['pandas.core.computation.expr', 'Expr'], ['pandas.io.pickle', 'read_pickle'], ['sympy', 'sympify'], ['numexpr', 'evaluate'], ['yaml', 'unsafe_load'],
  ['torch', 'load'], ['torch.serialization', 'load'], ['torch.hub', 'load'], ['torch.jit.unsupported_tensor_ops', 'execWrapper'],
  ['torch.utils.bottleneck.__main__', 'run_cprofile'], ['torch.fx.experimental.symbolic_shapes', 'ShapeEnv.evaluate_guards_expression'],
  ['torch._inductor.codecache', 'compile_file'], ['torch._dynamo.guards', 'GuardBuilder.get'], ['torch.fx.graph_module', 'reduce_graph_module'],
  ['torch.fx.graph_module', '_forward_from_src'], ['torch.utils._config_module', 'ConfigModule.load_config'], ['torch.utils.collect_env', 'run'],
  ['torch.package.package_importer', 'PackageImporter'], ['torch.utils.cpp_extension', 'load_inline'], ['transformers.dynamic_module_utils', 'get_class_from_dynamic_module'],
  ['pathlib', 'os.system'], ['collections', 'os.system'], ['re', '_compile.__globals__'], ['fractions', 'Fraction.__reduce__'], ['logging.config', 'listen'],
];

for (const [m, n] of GADGETS) {
  test(`${m}.${n} is dangerous`, () => {
    const d = classifyGlobal(m, n);
    assert.equal(d.cls, 'dangerous', `${m}.${n}: ${d.cls} (${d.reason})`);
  });
}

test('the value types the allowlist exists for stay allowed', () => {
  for (const [m, n] of [['collections', 'OrderedDict'], ['torch._utils', '_rebuild_tensor_v2'], ['numpy.core.multiarray', '_reconstruct'], ['pandas.core.frame', 'DataFrame'],
    ['sklearn.tree._classes', 'DecisionTreeClassifier'], ['uuid', 'UUID'], ['datetime', 'datetime'], ['re', '_compile']]) {
    assert.equal(classifyGlobal(m, n).cls, 'allowed', `${m}.${n}`);
  }
});
