/**
 * Deploy, one vertical slice: the body is the contract's `deployInputSchema`
 * (server/src/contract/apps.ts), its checks and the task's start are start.ts, the task kind
 * `app.deploy` with its steps and their undo is steps.ts, registered on the task engine by
 * the apps module (module.ts).
 */
export { startDeploy } from './start.js';
export { DEPLOY_KIND, deployKind, type DeployTaskData, type DeployTaskInput } from './steps.js';
