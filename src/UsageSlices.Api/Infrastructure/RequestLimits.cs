namespace UsageSlices.Infrastructure;

/// <summary>What the service reads of a request at most: anything larger is refused before it is parsed.</summary>
public static class RequestLimits
{
    public const long MaxBodyBytes = 16 * 1024;
    public const long MaxBatchBodyBytes = 1024 * 1024;

    /// <summary>
    /// The deepest request body (a batch event's properties) is 4 levels, so anything much deeper is an attack.
    /// The same options write responses and the OpenAPI document, whose schemas nest deeper, hence not 8.
    /// </summary>
    public const int MaxJsonDepth = 32;
}
