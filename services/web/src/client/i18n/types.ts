import type { AuditEventType, ChallengeStep, ErrorCode, FeedbackCode } from '@faceline/contracts';

/** Why the camera could not be used, as told by getUserMedia's DOMException names. */
export type CameraProblem = 'denied' | 'not-found' | 'in-use' | 'insecure' | 'unsupported' | 'failed';

/** Failures that happen in the browser before any server answers. */
export type ClientCode = 'NETWORK' | 'TIMEOUT' | 'DISCONNECTED' | 'UNKNOWN' | 'PASSKEY_FAILED';

export interface Explained {
  title: string;
  message: string;
}

/**
 * Every text the app shows. `Record<...>` over the contract's codes makes a missing
 * translation a compile error; the unit tests check the same at run time.
 * Placeholders: {name}, {n}, {total}, {time}.
 */
export interface Messages {
  langName: string;
  common: {
    appName: string;
    skipToContent: string;
    language: string;
    loading: string;
    retry: string;
    back: string;
    cancel: string;
    close: string;
    save: string;
    saved: string;
    yes: string;
    no: string;
    home: string;
    signIn: string;
    signOut: string;
    kiosk: string;
    register: string;
    myPage: string;
    admin: string;
    mainNav: string;
    somethingWrong: string;
    seconds: string;
    minutes: string;
    hours: string;
  };
  home: { title: string; intro: string; signInHelp: string; kioskHelp: string; registerHelp: string };
  register: {
    title: string;
    intro: string;
    username: string;
    usernameHelp: string;
    usernameInvalid: string;
    displayName: string;
    displayNameHelp: string;
    displayNameInvalid: string;
    submit: string;
    cameraNote: string;
    /** shown when the page was opened with the operator's one-time setup link */
    setupNote: string;
  };
  camera: {
    start: string;
    starting: string;
    connecting: string;
    preview: string;
    secureContext: string;
  };
  enroll: {
    title: string;
    intro: string;
    progress: string;
    progressLabel: string;
    done: string;
    doneMessage: string;
    again: string;
    noTicket: string;
  };
  login: {
    title: string;
    intro: string;
    username: string;
    start: string;
    scanning: string;
    step: string;
    stepsLabel: string;
    checking: string;
    welcome: string;
    livenessOff: string;
    tryAgain: string;
    noAccount: string;
    /** the passkey prompt is open (an administrator away from a trusted kiosk) */
    confirmPasskey: string;
    /** sent here to show the face again before a change */
    reauthIntro: string;
  };
  kiosk: {
    title: string;
    tapToStart: string;
    lookAtCamera: string;
    welcome: string;
    nextPerson: string;
    openMyPage: string;
    exit: string;
  };
  me: {
    title: string;
    account: string;
    displayName: string;
    greeting: string;
    station: string;
    preferredLanguage: string;
    theme: string;
    themeSystem: string;
    themeLight: string;
    themeDark: string;
    largeText: string;
    recentLogins: string;
    noLogins: string;
    loginsUnavailable: string;
    when: string;
    how: string;
    result: string;
    from: string;
    face: string;
    faceEnrolled: string;
    faceNotEnrolled: string;
    reEnroll: string;
    deleteFace: string;
    deleteFaceConfirm: string;
    faceDeleted: string;
    deleteAccount: string;
    deleteAccountConfirm: string;
    accountDeleted: string;
    modeVerify: string;
    modeIdentify: string;
    modeEnroll: string;
    success: string;
    failure: string;
    signedInWith: string;
    passkeys: string;
    passkeysIntro: string;
    passkeysUnsupported: string;
    noPasskeys: string;
    passkeyName: string;
    passkeyNameDefault: string;
    addPasskey: string;
    passkeyAdded: string;
    passkeyCreated: string;
    passkeyLastUsed: string;
    removePasskey: string;
    removePasskeyConfirm: string;
    passkeyRemoved: string;
    reauthDone: string;
  };
  admin: {
    title: string;
    users: string;
    search: string;
    username: string;
    displayName: string;
    role: string;
    enrolled: string;
    lastLogin: string;
    status: string;
    actions: string;
    locked: string;
    backoff: string;
    active: string;
    unlock: string;
    delete: string;
    deleteConfirm: string;
    audit: string;
    loadMore: string;
    type: string;
    never: string;
    forbidden: string;
    stepUpTitle: string;
    stepUpWithPasskey: string;
    stepUpNoPasskey: string;
    stepUpSignInAgain: string;
    stepUpAddPasskey: string;
    kiosks: string;
    kiosksIntro: string;
    kioskName: string;
    kioskNameDefault: string;
    trustThisBrowser: string;
    kioskTrusted: string;
    noKiosks: string;
    thisBrowser: string;
    trustedStatus: string;
    revokedStatus: string;
    trustedSince: string;
    lastSeen: string;
    revoke: string;
    revokeConfirm: string;
  };
  /** "Sign in with Faceline": the page another application sends people to, and its admin list */
  authorize: {
    title: string;
    intro: string;
    kioskIntro: string;
    continueAs: string;
    notYou: string;
    useFace: string;
    cancel: string;
    returning: string;
    consentTitle: string;
    consentIntro: string;
    allow: string;
    deny: string;
    scopes: Record<string, string>;
    missingRequest: string;
    clientsTitle: string;
    clientsOff: string;
    issuer: string;
    discovery: string;
    clientId: string;
    clientName: string;
    clientType: string;
    loginMode: string;
    modeVerify: string;
    modeIdentify: string;
    firstParty: string;
    redirectUris: string;
    noClients: string;
  };
  audit: Record<AuditEventType, string>;
  errors: Record<ErrorCode, Explained>;
  clientErrors: Record<ClientCode, Explained>;
  cameraProblems: Record<CameraProblem, Explained>;
  feedback: Record<FeedbackCode, string>;
  steps: Record<ChallengeStep, string>;
  /** "try again in {time}" */
  retryIn: string;
}
