let exitCode = 0;

/** The command's exit code (the container's status for `run`); main() reads it. */
export function setExitCode(code: number): void {
  exitCode = code;
}

export function getExitCode(): number {
  return exitCode;
}
