"use strict";
// meshops-objectset: many cdk8s ApiObjects in, and an App's charts out, in one jsii call each.
//
// A jsii call costs a round trip to this node process and a walk of its arguments on both
// sides, so the per-object calls (create, patch op, patch) were most of synth's time. Here
// the objects cross as one JSON string per App, in and out; every object is still a real
// ApiObject in the cdk8s construct tree, under the construct that emitted it, labelled by
// its chart and synthesized by cdk8s (Chart.toJson).
const { ApiObject } = require("cdk8s");

class ObjectSet {
  /**
   * Define every object of `objects`, a JSON array of [scope index, construct id, manifest]:
   * `new ApiObject(scopes[index], id, manifest)` for each, in order.
   */
  static define(scopes, objects) {
    for (const [index, id, manifest] of JSON.parse(objects)) {
      new ApiObject(scopes[index], id, manifest);
    }
  }

  /** `[[chart id, chart.toJson()], ...]` for every chart of `app`, as one JSON string. */
  static appJson(app) {
    return JSON.stringify(app.charts.map((chart) => [chart.node.id, chart.toJson()]));
  }
}

exports.ObjectSet = ObjectSet;
