#!/usr/bin/env node
// Tiny bin: turn on the compile cache where Node has it (22.1+), then load the CLI.
import * as nodeModule from "node:module";
nodeModule.enableCompileCache?.();
await import("../dist/main.js");
