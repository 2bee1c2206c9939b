/** Registers every rule family once; import this module for its side effect. */
import { registerRules, allRules } from './registry';
// Documentation-only modules: `modelvet rules` loads no analysis code.
import { dependencyRuleMeta as dependencyRules } from '../deps/meta';
import { codeRuleMeta as codeRules } from '../code/meta';
import { scanCodes } from '../scan/codes';
import { hubRules } from '../hub/rules';
import { datasetRules } from '../datasets/rules';
import { licenseRules } from '../licenses/meta';
import { cardRules } from '../cards/meta';
import { signingRules } from '../signing/rules';

if (allRules().length === 0) {
  registerRules(dependencyRules);
  registerRules(codeRules);
  registerRules(scanCodes);
  registerRules(hubRules);
  registerRules(datasetRules);
  registerRules(licenseRules);
  registerRules(cardRules);
  registerRules(signingRules);
}
