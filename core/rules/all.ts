/** Registers every rule family once; import this module for its side effect. */
import { registerRules, allRules } from './registry';
import { dependencyRules } from '../deps/index';
import { codeRules } from '../code/index';
import { scanCodes } from '../scan/codes';
import { hubRules } from '../hub/rules';

if (allRules().length === 0) {
  registerRules(dependencyRules);
  registerRules(codeRules);
  registerRules(scanCodes);
  registerRules(hubRules);
}
