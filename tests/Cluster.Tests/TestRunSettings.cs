// Each collection runs a cluster of five processes; on a 2-core machine two at once would distort the timings
// (failover, Redis outage) these tests measure.
[assembly: Xunit.v3.Parallelization(Mode = Xunit.Sdk.ParallelMode.None)]
