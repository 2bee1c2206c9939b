/** Registers the non-pickle format handlers and folder checks (imported by the engine for side effects). */
import { registerFormat } from '../format';
import { safetensorsHandler } from './safetensors';

registerFormat(safetensorsHandler);
import { onnxHandler } from './onnx';
registerFormat(onnxHandler);
import { ggufHandler } from './gguf';
registerFormat(ggufHandler);
import { hdf5Handler } from './keras'; // also registers the Keras zip classifier
registerFormat(hdf5Handler);
import { savedModelHandler, savedModelFolderCheck } from './savedmodel';
import { registerFolderCheck } from '../format';
registerFormat(savedModelHandler);
registerFolderCheck(savedModelFolderCheck);
import { hfFolderCheck } from './hf';
registerFolderCheck(hfFolderCheck);
