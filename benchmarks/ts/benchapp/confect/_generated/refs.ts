// What `confect codegen` would write (written by hand: the benchmark does not run the CLI).
import { Refs } from "@confect/core";
import spec from "../spec";

export default Refs.make(spec);
