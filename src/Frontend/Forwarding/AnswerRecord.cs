namespace GeminiParty.Frontend.Forwarding;

/// <summary>What a success answer is read for, to bind the resources it names to the key that answered.</summary>
public enum AnswerRecord
{
    /// <summary>Nothing: the answer only passes through.</summary>
    None,

    /// <summary>The resource names it carries (a create's <c>name</c>, a file a batch or operation names).</summary>
    ResourceNames,

    /// <summary>The interaction it is, which Google names by a bare <c>id</c> (in a stream, in its first event).</summary>
    InteractionId,
}
