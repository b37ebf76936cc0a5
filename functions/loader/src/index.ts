// The Cloud Function "loadHourlyActivity": Eventarc delivers the curated bucket's object-finalized
// events here. Configuration is read at cold start, so a bad setting fails the instance before any event.
import * as functions from "@google-cloud/functions-framework";
import type { CloudEvent } from "@google-cloud/functions-framework";
import { deployedHandler } from "./deployedHandler";
import { LOADER_ENTRY_POINT, ObjectFinalizedEvent } from "./hourlyLoader";

const handle = deployedHandler(process.env);

// Resolving acknowledges the event; a throw (a TransientLoadError) makes the platform deliver it again.
functions.cloudEvent(LOADER_ENTRY_POINT, async (event: CloudEvent<ObjectFinalizedEvent["data"]>): Promise<void> => {
  await handle(event);
});
