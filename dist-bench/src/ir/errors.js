/** Errors raised by the IR layer. Every message names the node (id, source name, op) concerned. */
export class IRError extends Error {
    name = 'IRError';
}
/** A malformed graph found by the verifier. `path` lists the enclosing region nodes, outermost first. */
export class VerifyError extends IRError {
    name = 'VerifyError';
}
/** A DSL call that cannot produce a well-typed node. */
export class BuildError extends IRError {
    name = 'BuildError';
}
/** Text that the IR parser cannot read; names the line and column. */
export class ParseError extends IRError {
    name = 'ParseError';
}
/** A failure while executing a graph on concrete values (bad index, count mismatch, missing weight). */
export class ExecutionError extends IRError {
    name = 'ExecutionError';
}
