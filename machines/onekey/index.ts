export { onekeyPolicy, onekeyMachine, createOnekeyPolicy, createOnekeyMachine, ONEKEY_POLL_DELAYS_MS, type OnekeyPolicyOptions } from "./policy.js"
export { CARD_METHODS, isCardMethod, LOCAL_REFUSALS } from "./methods.js"
