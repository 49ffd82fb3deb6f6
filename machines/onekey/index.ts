export { onekeyPolicy, onekeyMachine } from "./policy.js"
