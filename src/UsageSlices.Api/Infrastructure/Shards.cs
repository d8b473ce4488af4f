using System.Text.RegularExpressions;

namespace UsageSlices.Infrastructure;

/// <summary>One PostgreSQL database of the service, by the name that is its Marten tenant id (docs/scaling.md).</summary>
public sealed record Shard(string Name, string ConnectionString);

/// <summary>
/// The databases the service spreads organisations over: the main one (<c>ConnectionStrings:Postgres</c>), then each
/// <c>Database:Shards:{name}</c> in the order of their names. With none configured there is one database, as before.
/// </summary>
public static partial class Shards
{
    /// <summary>The main database's name: it is also where Wolverine keeps its nodes and where tenant-less sessions go.</summary>
    public const string Main = "main";

    public const string Section = "Database:Shards";

    /// <summary>The main database first (Marten sends a session without a tenant to the first database added), then the configured ones.</summary>
    public static IReadOnlyList<Shard> From(IConfiguration configuration, string mainConnectionString)
    {
        var configured = configuration.GetSection(Section).GetChildren()
            .Select(entry =>
            {
                if (NameProblem(entry.Key) is { } problem)
                    throw new InvalidOperationException($"{Section}:{entry.Key}: {problem}");
                if (string.IsNullOrWhiteSpace(entry.Value))
                    throw new InvalidOperationException($"{Section}:{entry.Key} must be a connection string.");
                return new Shard(entry.Key, Persistence.WithDefaults(entry.Value));
            })
            .OrderBy(shard => shard.Name, StringComparer.Ordinal);
        return [new Shard(Main, mainConnectionString), .. configured];
    }

    /// <summary>Why <paramref name="name"/> cannot name a shard, or <c>null</c> when it can.</summary>
    public static string? NameProblem(string name) =>
        ShardName().IsMatch(name) && name != Main ? null : $"a shard's name is 1 to 32 lower-case letters, digits or '-', and not \"{Main}\".";

    [GeneratedRegex("^[a-z0-9-]{1,32}$")]
    private static partial Regex ShardName();
}
