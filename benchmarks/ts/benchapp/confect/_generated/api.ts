// What `confect codegen` would write (written by hand: the benchmark does not run the CLI).
import { Api } from "@confect/server";
import schema from "../schema";
import spec from "../spec";

export default Api.make(schema, spec);
