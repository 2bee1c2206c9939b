/**
 * The pickle global policy: ALLOWLIST FIRST. A file is safe only when every
 * global it references is on the curated allowlist below (or passes a context
 * rule); known code-execution callables and modules — including all their
 * submodules and dotted-name traversals — are dangerous; everything else is
 * unknown (suspicious), named exactly.
 *
 * Sources for the allowlist: PyTorch's `torch/_weights_only_unpickler.py`,
 * NumPy's reduce implementations, joblib's NumpyArrayWrapper, the classes real
 * sklearn/pandas/transformers pickles reference.
 */
import type { GlobalStatus } from './types';

export type PolicyClass = 'allowed' | 'conditional' | 'unknown' | 'dangerous';
export interface PolicyDecision { cls: PolicyClass; reason: string }

const TORCH_DTYPES = ['float32', 'float', 'float64', 'double', 'float16', 'half', 'bfloat16', 'complex32', 'complex64', 'cfloat', 'complex128', 'cdouble',
  'uint8', 'int8', 'int16', 'short', 'int32', 'int', 'int64', 'long', 'bool', 'qint8', 'quint8', 'qint32', 'quint4x2', 'quint2x4',
  'float8_e4m3fn', 'float8_e5m2', 'float8_e4m3fnuz', 'float8_e5m2fnuz', 'uint16', 'uint32', 'uint64', 'bits8', 'bits16'];
const TORCH_STORAGES = ['Float', 'Double', 'Half', 'BFloat16', 'Long', 'Int', 'Short', 'Char', 'Byte', 'Bool', 'ComplexFloat', 'ComplexDouble',
  'QInt8', 'QUInt8', 'QInt32', 'QUInt4x2', 'QUInt2x4'].map((s) => `${s}Storage`);
const TORCH_REBUILD = ['_rebuild_tensor', '_rebuild_tensor_v2', '_rebuild_tensor_v3', '_rebuild_parameter', '_rebuild_parameter_with_state',
  '_rebuild_qtensor', '_rebuild_sparse_tensor', '_rebuild_sparse_csr_tensor', '_rebuild_device_tensor_from_numpy', '_rebuild_meta_tensor_no_storage',
  '_rebuild_wrapper_subclass', '_rebuild_nested_tensor', '_rebuild_xla_tensor', '_rebuild_mps_tensor', '_rebuild_device_tensor_from_cpu_tensor'];

/** Exact `module.name` globals that are safe to reference and call with any arguments. */
export const ALLOWED_GLOBALS: ReadonlySet<string> = new Set<string>([
  // containers & value types (PyTorch weights_only set + stdlib value classes)
  'collections.OrderedDict', 'collections.defaultdict', 'collections.Counter', 'collections.deque',
  'builtins.set', 'builtins.frozenset', 'builtins.bytearray', 'builtins.bytes', 'builtins.complex', 'builtins.slice', 'builtins.range',
  'builtins.int', 'builtins.float', 'builtins.str', 'builtins.list', 'builtins.dict', 'builtins.tuple', 'builtins.bool', 'builtins.object',
  '_codecs.encode', 'copyreg.__newobj__', 'copyreg.__newobj_ex__',
  'datetime.datetime', 'datetime.date', 'datetime.time', 'datetime.timedelta', 'datetime.timezone', 'decimal.Decimal', 'fractions.Fraction',
  'uuid.UUID', 'pathlib.PosixPath', 'pathlib.WindowsPath', 'pathlib.PurePosixPath', 'pathlib.PureWindowsPath', 'pathlib.Path',
  're._compile', 're.RegexFlag', 'uuid.SafeUUID', 'datetime.tzinfo', 'builtins.NotImplemented', 'builtins.Ellipsis',
  'argparse.Namespace', 'types.SimpleNamespace',
  // torch tensors, storages, dtypes
  ...TORCH_REBUILD.map((n) => `torch._utils.${n}`),
  ...TORCH_STORAGES.map((n) => `torch.${n}`), ...TORCH_STORAGES.map((n) => `torch.cuda.${n}`),
  ...TORCH_STORAGES.map((n) => `torch.${n.replace(/Storage$/, 'Tensor')}`), ...TORCH_STORAGES.map((n) => `torch.cuda.${n.replace(/Storage$/, 'Tensor')}`),
  'torch.storage.TypedStorage', 'torch.storage.UntypedStorage', 'torch.storage._TypedStorage', 'torch.storage._UntypedStorage', 'torch.UntypedStorage', 'torch.TypedStorage',
  ...TORCH_DTYPES.map((n) => `torch.${n}`),
  'torch.Size', 'torch.device', 'torch.Tensor', 'torch._tensor.Tensor', 'torch.nn.parameter.Parameter', 'torch.nn.parameter.Buffer', 'torch.nn.parameter.UninitializedParameter',
  'torch.strided', 'torch.sparse_coo', 'torch.sparse_csr', 'torch.sparse_csc', 'torch.sparse_bsr', 'torch.sparse_bsc', 'torch._mkldnn',
  'torch.contiguous_format', 'torch.channels_last', 'torch.channels_last_3d', 'torch.preserve_format',
  'torch.per_tensor_affine', 'torch.per_channel_affine', 'torch.per_tensor_symmetric', 'torch.per_channel_symmetric', 'torch.per_channel_affine_float_qparams',
  'torch.serialization._get_layout', 'torch._utils._set_obj_state',
  'torch.torch_version.TorchVersion', 'torch.nn.modules.container.ParameterDict', 'torch.nn.modules.container.ParameterList',
  'torch.optim.lr_scheduler.LambdaLR',
  ...['build_intlist', 'build_tensorlist', 'build_doublelist', 'build_boollist', 'build_complexlist', 'restore_type_tag'].map((n) => `torch.jit._pickle.${n}`),
  // numpy reconstruction
  'numpy.core.multiarray._reconstruct', 'numpy._core.multiarray._reconstruct', 'numpy.ndarray', 'numpy.dtype',
  'numpy.core.multiarray.scalar', 'numpy._core.multiarray.scalar', 'numpy.core.numeric._frombuffer', 'numpy._core.numeric._frombuffer',
  'numpy.ma.core._mareconstruct', 'numpy.ma.core.MaskedArray', 'numpy.matrix', 'numpy.matrixlib.defmatrix.matrix',
  'numpy.random._pickle.__randomstate_ctor', 'numpy.random._pickle.__bit_generator_ctor', 'numpy.random._pickle.__generator_ctor',
  'numpy.random.mtrand.RandomState', 'numpy.random._generator.Generator', 'numpy.random._mt19937.MT19937', 'numpy.random._pcg64.PCG64',
  'numpy.random.bit_generator.SeedSequence', 'numpy.random._mt19937.__pyx_unpickle_MT19937',
  ...['bool_', 'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64', 'float16', 'float32', 'float64', 'longdouble', 'complex64', 'complex128',
    'object_', 'str_', 'bytes_', 'datetime64', 'timedelta64', 'intc', 'uintc', 'longlong', 'ulonglong'].map((n) => `numpy.${n}`),
  // joblib
  'joblib.numpy_pickle.NumpyArrayWrapper', 'joblib.numpy_pickle_compat.NDArrayWrapper', 'joblib.numpy_pickle.NDArrayWrapper', 'joblib.numpy_pickle.ZNDArrayWrapper', 'joblib.numpy_pickle_compat.ZNDArrayWrapper',
  'sklearn.externals.joblib.numpy_pickle.NumpyArrayWrapper',
  // scipy sparse matrices (sklearn pipelines carry them)
  ...['csr_matrix', 'csc_matrix', 'coo_matrix', 'lil_matrix', 'dok_matrix', 'bsr_matrix', 'dia_matrix', 'csr_array', 'csc_array', 'coo_array']
    .flatMap((n) => [`scipy.sparse.${n}`, `scipy.sparse._csr.${n}`, `scipy.sparse._csc.${n}`, `scipy.sparse._coo.${n}`, `scipy.sparse.csr.${n}`, `scipy.sparse.csc.${n}`, `scipy.sparse._lil.${n}`, `scipy.sparse._dok.${n}`, `scipy.sparse._bsr.${n}`, `scipy.sparse._dia.${n}`, `scipy.sparse._arrays.${n}`]),
  // pandas reconstruction functions (classes are allowed by the pandas rule below)
  'pandas.core.indexes.base._new_Index', 'pandas._libs.internals._unpickle_block', 'pandas.core.internals.blocks.new_block',
  'pandas._libs.tslibs.timestamps._unpickle_timestamp', 'pandas._libs.tslibs.timedeltas._timedelta_unpickle', 'pandas._libs.tslibs.nattype.__nat_unpickle',
  'pandas._libs.arrays.__pyx_unpickle_NDArrayBacked', 'pandas.core.internals.managers.BlockManager', 'pandas._libs.properties.__pyx_unpickle_CachedProperty',
  'pandas.core.arrays.categorical._recode_for_categories', 'pandas._libs.tslibs.offsets._offset_map', 'pandas.core.internals.blocks.new_block_2d',
  // transformers / training metadata that real checkpoints carry
  'transformers.training_args.TrainingArguments', 'transformers.training_args.OptimizerNames', 'transformers.trainer_utils.IntervalStrategy',
  'transformers.trainer_utils.SchedulerType', 'transformers.trainer_utils.HubStrategy', 'transformers.trainer_utils.SaveStrategy',
  'transformers.training_args_seq2seq.Seq2SeqTrainingArguments', 'transformers.trainer_pt_utils.AcceleratorConfig',
  'accelerate.utils.dataclasses.DistributedType', 'transformers.debug_utils.DebugOption',
]);

/**
 * Enum classes on the allowlist: `getattr(cls, name)` (how pickle stores a member of an enum whose reduce is by
 * name, e.g. re.IGNORECASE, uuid.SafeUUID.safe) is safe for any public name — their public attributes are members
 * and int/str/Flag methods, none of which runs code. Dunder and private names are not allowed.
 */
export const ALLOWED_ENUMS: ReadonlySet<string> = new Set([
  're.RegexFlag', 'uuid.SafeUUID',
  'transformers.training_args.OptimizerNames', 'transformers.trainer_utils.IntervalStrategy', 'transformers.trainer_utils.SchedulerType',
  'transformers.trainer_utils.HubStrategy', 'transformers.trainer_utils.SaveStrategy', 'accelerate.utils.dataclasses.DistributedType', 'transformers.debug_utils.DebugOption',
]);

/** Globals allowed only in a checked context (see contextRules in pickle/scan.ts). */
export const CONDITIONAL_GLOBALS: ReadonlySet<string> = new Set([
  'torch._tensor._rebuild_from_type_v2', 'torch._tensor._rebuild_from_type', 'builtins.getattr', 'functools.partial',
  'copyreg._reconstructor', 'torch.storage._load_from_bytes',
]);

/** Modules whose every attribute (and every submodule's attribute) is dangerous. */
const DANGEROUS_MODULES = [
  'os', 'posix', 'nt', 'subprocess', '_posixsubprocess', 'pty', 'runpy', 'cProfile', 'profile', 'timeit', 'trace', 'code', 'codeop', 'pdb', 'bdb',
  'ctypes', '_ctypes', 'importlib', 'imp', 'zipimport', 'pip', 'ensurepip', 'webbrowser', 'socket', '_socket', 'shutil', 'asyncio', 'multiprocessing',
  'sys', 'marshal', 'pickle', '_pickle', 'dill', 'cloudpickle', 'shelve', 'joblib.load', 'commands', 'popen2', 'platform', 'signal', 'threading', '_thread',
  'inspect', 'pydoc', 'urllib', 'http', 'ftplib', 'smtplib', 'telnetlib', 'requests', 'httpx', 'aiohttp', 'paramiko', 'setuptools', 'distutils', 'site',
  'sysconfig', 'venv', 'tempfile', 'glob', 'io', '_io', 'fileinput', 'linecache', 'tkinter', 'idlelib', 'lib2to3', 'xmlrpc', 'nturl2path', 'gc',
  'torch.utils.collect_env', 'torch.hub', 'torch.jit', 'torch.package', 'torch.utils.cpp_extension', 'torch._dynamo', 'torch._inductor',
  'numpy.testing', 'numpy.f2py', 'numpy.distutils', 'numpy.ctypeslib', 'pandas.io', 'pathlib.os', 'keras.utils', 'tensorflow.io', 'tensorflow.python.ops.gen_io_ops',
  'builtins.__import__', 'code', 'sqlite3', 'dbm', 'mmap', 'logging.config', 'zipfile', 'tarfile', 'operator.attrgetter', 'operator.methodcaller',
  'torch.utils.bottleneck', 'torch.fx.experimental.symbolic_shapes', 'torch._export', 'torch.utils.benchmark', 'torch.testing',
  // pandas' eval/query machinery: constructing Expr("os.system(...)") parses AND calls what the string names, resolved in the
  // caller's globals (the frame that called pickle.load) — CapWords classes here are evaluators, not values.
  'pandas.core.computation',
  // torch.fx pickles rebuild a GraphModule by exec'ing the Python source they carry (reduce_graph_module,
  // _forward_from_src); _config_module.load_config unpickles/execs a config; rpc calls remote functions.
  'torch.fx.graph_module', 'torch.utils._config_module', 'torch.distributed.rpc', 'torch.utils.data.datapipes.utils.decoder',
  // stdlib and library helpers that run code, commands or imports, or reach the network, named in 2024–2025 scanner
  // advisories or reachable the same way: doctest.debug_script (pdb over a source string), test.support.script_helper
  // (runs a Python subprocess), unittest.mock's importer, _osx_support/_aix_support (os.system / subprocess helpers),
  // sympy's sympify/parsing and numexpr (eval of a string), YAML loaders, the Hub / transformers remote-code loaders.
  'doctest', 'test.support', 'unittest.mock', '_osx_support', '_aix_support', 'pkgutil', 'ssl', 'socketserver', 'imaplib', 'poplib', 'nntplib',
  'sympy.core.sympify', 'sympy.parsing', 'numexpr', 'yaml', 'huggingface_hub', 'transformers.dynamic_module_utils',
];
/** Exact globals that run code, read/write files or resolve arbitrary names. */
const DANGEROUS_GLOBALS = new Set([
  'builtins.eval', 'builtins.exec', 'builtins.compile', 'builtins.__import__', 'builtins.open', 'builtins.getattr', 'builtins.setattr', 'builtins.delattr',
  'builtins.vars', 'builtins.globals', 'builtins.locals', 'builtins.input', 'builtins.breakpoint', 'builtins.help', 'builtins.exit', 'builtins.quit',
  'builtins.apply', 'builtins.execfile', 'builtins.file', 'builtins.reload', 'builtins.memoryview', 'builtins.__builtins__', 'builtins.type', 'builtins.super',
  'operator.attrgetter', 'operator.methodcaller', 'operator.itemgetter', 'operator.getitem', 'operator.setitem', 'operator.call',
  // the C modules behind operator/functools are importable by these names too (find_class('_operator', 'attrgetter'))
  '_operator.attrgetter', '_operator.methodcaller', '_operator.itemgetter', '_operator.getitem', '_operator.setitem', '_operator.call', '_functools.reduce',
  'types.CodeType', 'types.FunctionType', 'types.LambdaType', 'types.MethodType', 'types.ModuleType', 'types.BuiltinFunctionType',
  'pkgutil.resolve_name', 'pkgutil.get_data', 'pkgutil.walk_packages', 'uuid._get_command_stdout', 'uuid._popen', 'pydoc.pipepager',
  'torch.load', 'torch.serialization.load', 'torch.serialization._load', 'torch._C._jit_compile', 'torch.utils.collect_env.run',
  'numpy.load', 'numpy.loads', 'numpy.lib.npyio.load', 'numpy.testing._private.utils.runstring', 'numpy.core.multiarray.frombuffer_x',
  'pandas.read_pickle', 'pandas.io.pickle.read_pickle', 'joblib.load', 'joblib.numpy_pickle.load', 'functools.reduce',
  'pandas.eval', 'sympy.sympify', 'sympy.parse_expr', 'codecs.open', 'gzip.open', 'gzip.GzipFile', 'bz2.open', 'bz2.BZ2File', 'lzma.open', 'lzma.LZMAFile',
  'copyreg._reconstructor_unsafe', 'copyreg.add_extension', 'copyreg.remove_extension', 'copyreg.pickle', 'code.InteractiveInterpreter.runcode', 'trace.Trace.run', 'collections.UserDict.__getattr__',
]);
/** Attribute names that, reached through a dotted name, mean code execution or name resolution. */
const DANGEROUS_ATTRS = new Set(['system', 'popen', 'exec', 'eval', 'execv', 'execve', 'execl', 'spawn', 'spawnv', 'Popen', 'call', 'check_output', 'check_call', 'run',
  '__import__', '__builtins__', '__globals__', '__subclasses__', '__code__', '__getattribute__', '__reduce__', '__reduce_ex__', 'getattr', 'load', 'loads', 'open', 'compile', 'runcode', 'runctx', 'remove', 'unlink', 'rmtree', 'startfile']);

function moduleMatches(path: string, mod: string): boolean {
  return path === mod || path.startsWith(mod + '.');
}

/**
 * Decide a global by its fully qualified `module` and `name` (dotted names are
 * traversals: `pathlib` + `os.system` resolves `pathlib.os.system`, i.e. os.system).
 */
export function classifyGlobal(module: string, name: string): PolicyDecision {
  const full = `${module}.${name}`;
  if (CONDITIONAL_GLOBALS.has(full)) return { cls: 'conditional', reason: 'allowed only in a checked context' };
  if (DANGEROUS_GLOBALS.has(full)) return { cls: 'dangerous', reason: 'runs code, touches files or resolves arbitrary names' };
  if (ALLOWED_GLOBALS.has(full)) return { cls: 'allowed', reason: 'on the allowlist' };
  const parts = full.split('.');
  const nameStart = module.split('.').length;
  // Any window of the dotted path that names a dangerous module (os.system, pathlib.os.system, a.b.subprocess.Popen …).
  for (let i = 0; i < parts.length - 1; i++) {
    if (i > 0 && i < nameStart) continue; // inner windows only inside a dotted attribute traversal
    for (let j = i + 1; j < parts.length; j++) {
      const window = parts.slice(i, j).join('.');
      if (DANGEROUS_MODULES.some((m) => window === m || (i === 0 && moduleMatches(window, m)))) {
        return { cls: 'dangerous', reason: `references module '${window}' (code execution / file / network / import machinery)` };
      }
      if (i > 0 && DANGEROUS_GLOBALS.has(`${window}.${parts[j]}`)) return { cls: 'dangerous', reason: `resolves to ${window}.${parts[j]}` };
    }
  }
  if (name.includes('.')) {
    const attrs = name.split('.');
    const bad = attrs.find((a) => DANGEROUS_ATTRS.has(a));
    if (bad) return { cls: 'dangerous', reason: `dotted name reaches attribute '${bad}'` };
  }
  if (ALLOWED_GLOBALS.has(full)) return { cls: 'allowed', reason: 'on the allowlist' };
  if (name.includes('.')) return { cls: 'unknown', reason: 'dotted attribute path (protocol 4 traversal) not on the allowlist' };
  if (isAllowedByFamily(module, name)) return { cls: 'allowed', reason: 'library class on the allowlist' };
  return { cls: 'unknown', reason: 'not on the allowlist' };
}

const CLASS_NAME = /^[A-Z][A-Za-z0-9_]*$/;
/** Library families where CLASSES (CapWords names) are reconstruction-safe but functions are not. */
function isAllowedByFamily(module: string, name: string): boolean {
  if (moduleMatches(module, 'sklearn')) {
    if (/(^|\.)(_testing|testing|externals|_build_utils|__check_build|conftest|tests)(\.|$)/.test(module)) return false;
    if (CLASS_NAME.test(name)) return true;
    return /^__pyx_unpickle_[A-Z]\w*$/.test(name); // Cython-generated __reduce__ helpers for sklearn's extension types
  }
  if (moduleMatches(module, 'pandas')) {
    if (/(^|\.)(io|testing|plotting|_testing|util|api\.extensions)(\.|$)/.test(module)) return false;
    return CLASS_NAME.test(name) || /^__pyx_unpickle_[A-Z]\w*$/.test(name);
  }
  if (moduleMatches(module, 'torch.nn.modules') || moduleMatches(module, 'torch.optim')) return CLASS_NAME.test(name) && !/(^|\.)_/.test(module.replace(/^torch\./, ''));
  if (moduleMatches(module, 'numpy.dtypes')) return CLASS_NAME.test(name);
  if (moduleMatches(module, 'scipy.sparse') && !moduleMatches(module, 'scipy.sparse.linalg')) return /_(matrix|array)$/.test(name);
  if (moduleMatches(module, 'xgboost.sklearn') || moduleMatches(module, 'lightgbm.sklearn') || moduleMatches(module, 'catboost.core')) return CLASS_NAME.test(name);
  return false;
}

export function globalStatus(cls: PolicyClass): GlobalStatus {
  return cls === 'dangerous' ? 'dangerous' : cls === 'unknown' ? 'unknown' : 'allowed';
}

/** Functions that deserialize their bytes argument as a pickle: the bytes are scanned as a nested stream. */
export const NESTED_LOADERS: ReadonlySet<string> = new Set([
  'torch.storage._load_from_bytes', 'pickle.loads', '_pickle.loads', 'pickle._loads', 'dill.loads', 'dill._dill.loads', 'cloudpickle.loads',
  'torch.load', 'torch.serialization.load', 'joblib.load', 'numpy.loads', 'pickle.load', '_pickle.load', 'io.BytesIO', '_io.BytesIO',
]);

/** Known reconstruction attributes fetched with builtins.getattr (enum members are CAPS and handled by pattern). */
export const GETATTR_SAFE_ATTRS: ReadonlySet<string> = new Set(['fromkeys', 'from_dict', '__new__']);
